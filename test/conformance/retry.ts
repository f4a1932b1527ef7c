/** Conformance: failures — retry rules, the default policy, discard, timeouts. Core decides; the adapter stores. */
import { describe, expect, it } from "vitest";

import { waitFor } from "@errand/core/testing";

import { BrokenJob, DiscardedJob, FlakyJob, journal, withFixture, SlowJob, type AdapterWiring, type Fixture } from "./harness.js";

async function finalState(fixture: Fixture, jobId: string, states: string[]) {
  return waitFor(async () => {
    const [record] = await fixture.client.getStatus([jobId]);
    return record && states.includes(record.state) && record;
  }, { timeoutMs: 10_000, message: `job ${jobId} to reach ${states.join("/")}` });
}

export function retrySuite(wiring: AdapterWiring): void {
  describe(`${wiring.name}: retry`, () => {
    it("a retryOn rule runs the job again after its wait until it succeeds", async () => {
      await withFixture(wiring, async (fixture) => {
        const retries: number[] = [];
        fixture.runtime.events.on("job:retry", (event) => retries.push(event.payload.executions));
        await fixture.startWorker();
        const { jobId } = await FlakyJob.performLater(3);
        const status = await finalState(fixture, jobId, ["succeeded", "dead"]);
        expect(status.state).toBe("succeeded");
        expect(status.executions).toBe(3);
        expect(retries).toEqual([1, 2]);
        expect(status.result).toBe(JSON.stringify({ json: 3 }));
      });
    });

    it("a job that exhausts its rule's attempts goes to the dead set with the last error", async () => {
      await withFixture(wiring, async (fixture) => {
        await fixture.startWorker();
        const { jobId } = await FlakyJob.performLater(99);
        const status = await finalState(fixture, jobId, ["dead"]);
        expect(journal.attempts.get(jobId)).toBe(3);
        expect(status.error?.message).toBe("attempt 3 failed");
        const dead = await fixture.client.listDead({});
        expect(dead.map((job) => job.id)).toContain(jobId);
      });
    });

    it("errors no rule matches follow the configured default policy", async () => {
      await withFixture(wiring, { retry: { attempts: 3, wait: 5, jitter: 0 } }, async (fixture) => {
        await fixture.startWorker();
        const { jobId } = await BrokenJob.performLater();
        await finalState(fixture, jobId, ["dead"]);
        expect(journal.attempts.get(jobId)).toBe(3);
      });
    });

    it("discardOn drops the job: state failed, not in the dead set, not retried", async () => {
      await withFixture(wiring, async (fixture) => {
        const discarded: string[] = [];
        fixture.runtime.events.on("job:discard", (event) => discarded.push(event.payload.id));
        await fixture.startWorker();
        const { jobId } = await DiscardedJob.performLater();
        const status = await finalState(fixture, jobId, ["failed", "dead", "succeeded"]);
        expect(status.state).toBe("failed");
        expect(status.error?.name).toBe("GoneError");
        expect(discarded).toEqual([jobId]);
        expect((await fixture.client.listDead({})).map((job) => job.id)).not.toContain(jobId);
      });
    });

    it("a job over its timeout has its signal aborted and fails with JobTimeoutError", async () => {
      await withFixture(wiring, async (fixture) => {
        await fixture.startWorker();
        const { jobId } = await SlowJob.performLater();
        const status = await finalState(fixture, jobId, ["dead"]);
        expect(status.error?.code).toBe("ERR_JOB_TIMEOUT");
        expect(status.error?.message).toMatch(/timed out after 50 ms/);
      });
    });

    it("a retried job keeps its id and the stored payload counts executions", async () => {
      await withFixture(wiring, async (fixture) => {
        await fixture.startWorker();
        const { jobId } = await FlakyJob.performLater(2);
        await finalState(fixture, jobId, ["succeeded"]);
        expect(journal.attempts.get(jobId)).toBe(2);
      });
    });
  });
}
