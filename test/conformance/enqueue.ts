/** Conformance: storing jobs — single, bulk, scheduled, ids, priorities through the Job API. */
import { describe, expect, it } from "vitest";

import { performAllLater } from "@errand/core";

import { payload, RecordJob, reserve, withFixture, type AdapterWiring } from "./harness.js";

export function enqueueSuite(wiring: AdapterWiring): void {
  describe(`${wiring.name}: enqueue`, () => {
    it("stores a bulk batch in one call and returns results in order", async () => {
      await withFixture(wiring, async (fixture) => {
        const payloads = Array.from({ length: 25 }, (_, index) => payload({ args: { json: [`job-${index}`] } }));
        const results = await fixture.adapter.enqueue({ jobs: payloads });
        expect(results.map((result) => result.jobId)).toEqual(payloads.map((p) => p.id));
        expect(new Set(results.map((result) => result.providerJobId)).size).toBe(25);
        const taken = await reserve(fixture.adapter, { max: 100 });
        expect(taken).toHaveLength(25);
      });
    });

    it("performLater returns the job id, provider id, queue and times", async () => {
      await withFixture(wiring, async (fixture) => {
        const before = Date.now();
        const enqueued = await RecordJob.performLater("hello");
        expect(enqueued.enqueued).toBe(true);
        expect(enqueued.jobId).toMatch(/^[0-9a-f-]{36}$/);
        expect(enqueued.providerJobId).not.toBe("");
        expect(enqueued.queue).toBe("default");
        expect(enqueued.adapter).toBe(fixture.client.name);
        expect(enqueued.scheduledAt.getTime()).toBeGreaterThanOrEqual(before);
        const [status] = await fixture.client.getStatus([enqueued.jobId]);
        expect(status?.state).toBe("queued");
      });
    });

    it.runIf(wiring.capabilities.maxDelayMs >= 3_600_000)("[capability maxDelayMs ≥ 1 h] a job with wait is scheduled and not reserved before its time", async () => {
      await withFixture(wiring, async (fixture) => {
        const later = await RecordJob.set({ wait: "1h" }).performLater("later");
        const now = await RecordJob.performLater("now");
        expect(later.scheduledAt.getTime() - later.enqueuedAt.getTime()).toBe(3_600_000);
        const taken = await reserve(fixture.adapter, { max: 10 });
        expect(taken.map((r) => JSON.parse(r.body).id)).toEqual([now.jobId]);
        const [status] = await fixture.client.getStatus([later.jobId]);
        expect(status?.state).toBe("scheduled");
      });
    });

    it("performAllLater stores every job in one round trip per adapter, each with its own options", async () => {
      await withFixture(wiring, async (fixture) => {
        const calls: number[] = [];
        fixture.runtime.events.on("adapter:call", (event) => {
        if (event.operation === "enqueue") calls.push(event.count);
        });
        // Backends without delays (SQS FIFO) get a third queue instead of a wait.
        const delays = fixture.adapter.capabilities.maxDelayMs >= 600_000;
        const jobs = [new RecordJob("a"), new RecordJob("b").set({ queue: "low" }), new RecordJob("c").set(delays ? { wait: "10m" } : { queue: "third" })];
        const results = await performAllLater(jobs);
        expect(calls).toEqual([3]);
        expect(results.map((result) => result.queue)).toEqual(["default", "low", delays ? "default" : "third"]);
        expect(results[2]!.scheduledAt.getTime() - results[2]!.enqueuedAt.getTime()).toBe(delays ? 600_000 : 0);
        expect(new Set(results.map((result) => result.jobId)).size).toBe(3);
      });
    });

    it("an unserializable argument throws SerializationError and enqueues nothing", async () => {
      await withFixture(wiring, async (fixture) => {
        class Avatar {}
        await expect(RecordJob.performLater({ owner: { avatar: new Avatar() } } as never)).rejects.toThrow(
          /args\[0\]\.owner\.avatar: is an instance of Avatar/,
        );
        await expect(performAllLater([new RecordJob("ok"), new RecordJob((() => 1) as never)])).rejects.toThrow(/args\[0\]: function/);
        expect(await reserve(fixture.adapter, { max: 10 })).toEqual([]);
      });
    });
  });
}
