/** Conformance: reserving — order, priorities, queues, max, blocking waits. */
import { describe, expect, it } from "vitest";

import { bodies, payload, reserve, withFixture, type AdapterWiring } from "./harness.js";

export function reserveSuite(wiring: AdapterWiring): void {
  describe(`${wiring.name}: reserve`, () => {
    it("hands out lower priority first, then oldest first, at most max", async () => {
      await withFixture(wiring, async (fixture) => {
        const jobs = [payload({ priority: 5 }), payload({ priority: 0 }), payload({ priority: 5 }), payload({ priority: -1 })];
        if (!fixture.adapter.capabilities.priorities) jobs.forEach((job) => (job.priority = 0));
        await fixture.adapter.enqueue({ jobs });
        const first = bodies(await reserve(fixture.adapter, { max: 3 }));
        const expected = fixture.adapter.capabilities.priorities ? [jobs[3], jobs[1], jobs[0]] : jobs.slice(0, 3);
        expect(first.map((job) => job.id)).toEqual(expected.map((job) => job!.id));
        const rest = bodies(await reserve(fixture.adapter, { max: 3 }));
        expect(rest).toHaveLength(1);
      });
    });

    it("takes from queues in the order given and ignores other queues", async () => {
      await withFixture(wiring, async (fixture) => {
        const low = payload({ queue: "low" });
        const high = payload({ queue: "high" });
        const other = payload({ queue: "other" });
        await fixture.adapter.enqueue({ jobs: [low, high, other] });
        const taken = bodies(await reserve(fixture.adapter, { queues: ["high", "low"], max: 10 }));
        expect(taken.map((job) => job.id)).toEqual([high.id, low.id]);
      });
    });

    it("a reserved job is not handed out twice", async () => {
      await withFixture(wiring, async (fixture) => {
        await fixture.adapter.enqueue({ jobs: [payload(), payload()] });
        const [a, b] = await Promise.all([reserve(fixture.adapter, { max: 1 }), reserve(fixture.adapter, { max: 1 })]);
        const ids = [...a!, ...b!].map((r) => r.providerJobId);
        expect(ids).toHaveLength(2);
        expect(new Set(ids).size).toBe(2);
        expect(await reserve(fixture.adapter, { max: 5 })).toEqual([]);
      });
    });

    it("a waiting reserve returns promptly when its signal aborts", async () => {
      await withFixture(wiring, async (fixture) => {
        const controller = new AbortController();
        const started = Date.now();
        const pending = reserve(fixture.adapter, { waitMs: 20_000, signal: controller.signal });
        controller.abort();
        expect(await pending).toEqual([]);
        expect(Date.now() - started).toBeLessThan(5_000);
      });
    });

    it.runIf(wiring.capabilities.blockingReserve)("[capability blockingReserve] a waiting reserve wakes when a job is enqueued", async () => {
      await withFixture(wiring, async (fixture) => {
        const started = Date.now();
        const pending = reserve(fixture.adapter, { waitMs: 20_000 });
        const job = payload();
        await fixture.adapter.enqueue({ jobs: [job] });
        expect(bodies(await pending).map((t) => t.id)).toEqual([job.id]);
        expect(Date.now() - started).toBeLessThan(5_000);
      });
    });

    it.skipIf(wiring.capabilities.blockingReserve)("[no capability blockingReserve] reserve with waitMs returns at once; the worker polls", async () => {
      await withFixture(wiring, async (fixture) => {
        const started = Date.now();
        expect(await reserve(fixture.adapter, { waitMs: 20_000 })).toEqual([]);
        expect(Date.now() - started).toBeLessThan(5_000);
      });
    });

    it.runIf(wiring.capabilities.wildcardQueues)("[capability wildcardQueues] '*' reserves from every queue", async () => {
      await withFixture(wiring, async (fixture) => {
        await fixture.adapter.enqueue({ jobs: [payload({ queue: "a" }), payload({ queue: "b" })] });
        const taken = await fixture.client.reserve({ queues: "*", max: 10, leaseMs: 30_000, waitMs: 0, workerId: "w" });
        expect(bodies(taken).map((job) => job.queue).sort()).toEqual(["a", "b"]);
      });
    });

    it.skipIf(wiring.capabilities.wildcardQueues)("[no capability wildcardQueues] '*' is refused with a clear error", async () => {
      await withFixture(wiring, async (fixture) => {
        await expect(fixture.client.reserve({ queues: "*", max: 10, leaseMs: 30_000, waitMs: 0, workerId: "w" })).rejects.toThrow(
          /cannot reserve from every queue/,
        );
      });
    });
  });
}
