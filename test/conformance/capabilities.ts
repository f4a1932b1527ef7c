/** Conformance: options an adapter cannot honour are refused with a clear error, and nothing is stored. */
import { describe, expect, it } from "vitest";

import { Job, performAllLater } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { bodies, journal, payload, RecordJob, reserve, withFixture, type AdapterWiring } from "./harness.js";

class RetryingJob extends Job<[]> {
  async perform() {}
}

/** A job class whose retry rule moves retries to `priority`; one class per priority (registered by name). */
const retryAtPriority = new Map<number, typeof RetryingJob>();
function retryingAt(priority: number): typeof RetryingJob {
  let jobClass = retryAtPriority.get(priority);
  if (!jobClass) {
    jobClass = class extends RetryingJob {
      static override retry = [[Error, { attempts: 3, priority }]] as const;
    };
    Object.defineProperty(jobClass, "name", { value: `RetryAtPriority${priority < 0 ? "Minus" : ""}${Math.abs(priority)}Job` });
    retryAtPriority.set(priority, jobClass);
  }
  return jobClass;
}

export function capabilitiesSuite(wiring: AdapterWiring): void {
  const caps = wiring.capabilities;
  describe(`${wiring.name}: capabilities`, () => {
    it.skipIf(caps.transactionalEnqueue)("[no capability transactionalEnqueue] set({ transaction }) is refused", async () => {
      await withFixture(wiring, async (fixture) => {
        await expect(RecordJob.set({ transaction: {} }).performLater("tx")).rejects.toThrow(/cannot enqueue inside your transaction/);
        expect(await reserve(fixture.adapter)).toEqual([]);
      });
    });

    it.runIf(caps.maxDelayMs !== Infinity)("[capability maxDelayMs] a wait beyond the maximum is refused", async () => {
      await withFixture(wiring, async (fixture) => {
        await expect(RecordJob.set({ wait: caps.maxDelayMs + 60_000 }).performLater("far")).rejects.toThrow(/longer than the .* adapter allows/);
        expect(await reserve(fixture.adapter)).toEqual([]);
      });
    });

    it.runIf(caps.maxDelayMs === Infinity)("[capability maxDelayMs: unbounded] a wait of a year is stored", async () => {
      await withFixture(wiring, async (fixture) => {
        const { jobId } = await RecordJob.set({ wait: "52w" }).performLater("far");
        expect((await RecordJob.status(jobId))?.state).toBe("scheduled");
      });
    });

    it.skipIf(caps.priorities)("[no capability priorities] a priority is refused", async () => {
      await withFixture(wiring, async (fixture) => {
        await expect(RecordJob.set({ priority: 5 }).performLater("p")).rejects.toThrow(/does not support priorities/);
        expect(await reserve(fixture.adapter)).toEqual([]);
      });
    });

    it.runIf(caps.priorities)("[capability maxPriority] a priority beyond ±maxPriority is refused, naming the job, the value and the bound", async () => {
      await withFixture(wiring, async (fixture) => {
        const over = caps.maxPriority + 1;
        const bound = `maxPriority: -${caps.maxPriority} to ${caps.maxPriority}`;
        await expect(RecordJob.set({ priority: over }).performLater("high")).rejects.toThrow(`RecordJob: priority ${over} is outside what the ${fixture.client.name} adapter stores (capability ${bound})`);
        await expect(RecordJob.set({ priority: -over }).performLater("low")).rejects.toThrow(`RecordJob: priority -${over} is outside`);
        expect(await reserve(fixture.adapter)).toEqual([]);
      });
    });

    it.runIf(!caps.priorities || caps.maxPriority < Number.MAX_SAFE_INTEGER)(
      "[capability maxPriority or no priorities] a retry rule's priority the adapter cannot store refuses performLater and performAllLater; nothing is stored",
      async () => {
        await withFixture(wiring, async (fixture) => {
          const priority = caps.priorities ? caps.maxPriority + 1 : 1;
          const JobClass = retryingAt(priority);
          const reason = caps.priorities ? `stores -${caps.maxPriority} to ${caps.maxPriority} (capability maxPriority)` : "does not support priorities (capability priorities)";
          const message = `${JobClass.name}: retryOn(Error) retries at priority ${priority}, but the ${fixture.client.name} adapter ${reason}`;
          await expect(JobClass.performLater()).rejects.toThrow(message);
          await expect(performAllLater([new RecordJob("fine"), new JobClass()])).rejects.toThrow(message);
          expect(await reserve(fixture.adapter)).toEqual([]);
        });
      },
    );

    it.runIf(caps.priorities)("[capability maxPriority] priorities of ±maxPriority are stored unchanged, the lower run first", async () => {
      await withFixture(wiring, async (fixture) => {
        const last = await RecordJob.set({ priority: caps.maxPriority }).performLater("last");
        const first = await RecordJob.set({ priority: -caps.maxPriority }).performLater("first");
        const taken = bodies(await reserve(fixture.adapter));
        expect(taken.map((p) => [p.id, p.priority])).toEqual([
          [first.jobId, -caps.maxPriority],
          [last.jobId, caps.maxPriority],
        ]);
      });
    });

    it.skipIf(caps.groups)("[no capability groups] set({ group }) is refused", async () => {
      await withFixture(wiring, async (fixture) => {
        await expect(RecordJob.set({ group: "account-1" }).performLater("g")).rejects.toThrow(/does not support ordering groups/);
        expect(await reserve(fixture.adapter)).toEqual([]);
      });
    });

    it.runIf(caps.groups)("[capability groups] jobs of one group run one at a time, in enqueue order", async () => {
      await withFixture(wiring, async (fixture) => {
        const labels = Array.from({ length: 6 }, (_, i) => `g${i}`);
        for (const label of labels) await RecordJob.set({ group: "account-1" }).performLater(label);
        await fixture.startWorker({ concurrency: 4 });
        // Not drained(): a group's next job becomes receivable only once the previous one's
        // settlement is written, which a worker's write-behind may do after its next reserve.
        await waitFor(() => journal.performed.length === labels.length, { message: "every job of the group to run" });
        expect(journal.performed.map((entry) => entry.label)).toEqual(labels);
      });
    });

    it("set({ group }) with a bad group id is refused naming it", async () => {
      await withFixture(wiring, async () => {
        await expect(RecordJob.set({ group: "" }).performLater("g")).rejects.toThrow(/set\(\{ group \}\): expected 1 to 128/);
      });
    });

    const refusals = [
      ["unique", { unique: { key: "k", while: "queued" as const } }, /does not support unique jobs/],
      ["concurrencyLimits", { concurrency: { key: "k", limit: 1 } }, /does not support concurrency limits/],
      ["rateLimits", { rateLimit: { key: "k", limit: 1, perMs: 1000 } }, /does not support rate limits/],
      ["recurring", { recurring: { task: "t", tick: new Date().toISOString() } }, /does not support recurring tasks/],
    ] as const;
    for (const [capability, flow, message] of refusals) {
      it.skipIf(caps[capability])(`[no capability ${capability}] a job with flow.${Object.keys(flow)[0]} is refused, and nothing is stored`, async () => {
        await withFixture(wiring, async (fixture) => {
          await expect(fixture.client.enqueue([payload({ flow })])).rejects.toThrow(message);
          expect(await reserve(fixture.adapter)).toEqual([]);
        });
      });
    }
  });
}
