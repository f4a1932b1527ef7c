/**
 * Conformance: unique jobs (`capabilities.unique`). Decided at enqueue, atomically; a
 * duplicate stores nothing and answers with the holder's id and `duplicate: true`. Which
 * states of the holder block, per `while`, is the table in docs/flow-control.md.
 */
import { describe, expect, it } from "vitest";

import { performAllLater } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { FLOW_CONFIG, flowPayload, UniqueActiveJob, UniqueArgsJob, UniqueDoneJob, UniqueDyingJob, UniqueQueuedJob } from "./flow-jobs.js";
import { journal, openGate, reserve, withFixture, type AdapterWiring } from "./harness.js";

export function flowUniqueSuite(wiring: AdapterWiring): void {
  describe.runIf(wiring.capabilities.unique)(`${wiring.name}: unique jobs [capability unique]`, () => {
    it("a second job with the key while the first is queued stores nothing and returns the first's id", async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        const first = await UniqueQueuedJob.performLater("report-1");
        const second = await UniqueQueuedJob.performLater("report-1");
        const other = await UniqueQueuedJob.performLater("report-2");
        expect(first.duplicate).toBe(false);
        expect(second).toMatchObject({ duplicate: true, jobId: first.jobId, providerJobId: first.providerJobId, enqueued: true });
        expect(other.duplicate).toBe(false);
        const queued = (await fixture.adapter.listQueues({})).find((queue) => queue.name === "default")?.queued;
        expect(queued).toBe(2);
        const taken = await reserve(fixture.adapter, { max: 10 });
        expect(taken.map((r) => JSON.parse(r.body).id).sort()).toEqual([first.jobId, other.jobId].sort());
      });
    });

    it('while "queued": once the holder runs, a new job with the key is stored', async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        const first = await UniqueQueuedJob.performLater("k", "hold-q");
        await fixture.startWorker({ concurrency: 2 });
        await waitFor(() => journal.gates.get("hold-q")?.started, { message: "the holder to start" });
        const second = await UniqueQueuedJob.performLater("k");
        expect(second.duplicate).toBe(false);
        expect(second.jobId).not.toBe(first.jobId);
        openGate("hold-q").release();
        await waitFor(() => journal.performed.length === 2, { message: "both jobs to run" });
      });
    });

    it('while "active": duplicates are refused while the holder runs, and accepted once it succeeded', async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        const first = await UniqueActiveJob.performLater("k", "hold-a");
        await fixture.startWorker({ concurrency: 2 });
        await waitFor(() => journal.gates.get("hold-a")?.started, { message: "the holder to start" });
        expect((await UniqueActiveJob.performLater("k")).jobId).toBe(first.jobId);
        openGate("hold-a").release();
        await waitFor(async () => (await UniqueActiveJob.status(first.jobId))?.state === "succeeded", { message: "the holder to succeed" });
        const third = await UniqueActiveJob.performLater("k");
        expect(third.duplicate).toBe(false);
        await waitFor(() => journal.performed.length === 2, { message: "the new job to run" });
      });
    });

    it('while "active": a holder that died no longer blocks', async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        const first = await UniqueDyingJob.performLater("k");
        await fixture.startWorker();
        await waitFor(async () => (await UniqueDyingJob.status(first.jobId))?.state === "dead", { message: "the holder to die" });
        const second = await UniqueDyingJob.performLater("k");
        expect(second.duplicate).toBe(false);
        expect(second.jobId).not.toBe(first.jobId);
      });
    });

    it('while "done": a succeeded holder blocks until `for` runs out after its enqueue', async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        const first = await UniqueDoneJob.performLater("k");
        await fixture.startWorker();
        await waitFor(async () => (await UniqueDoneJob.status(first.jobId))?.state === "succeeded", { message: "the holder to succeed" });
        const during = await UniqueDoneJob.performLater("k");
        // A duplicate only while `for` (1.5 s after the first enqueue) has not run out.
        if (Date.now() < first.enqueuedAt.getTime() + 1400) expect(during.jobId).toBe(first.jobId);
        const after = await waitFor(
          async () => {
            const next = await UniqueDoneJob.performLater("k");
            return next.duplicate ? undefined : next;
          },
          { timeoutMs: 10_000, intervalMs: 100, message: "the key to be released after `for`" },
        );
        expect(Date.now()).toBeGreaterThanOrEqual(first.enqueuedAt.getTime() + 1500 - 5);
        expect(after.jobId).not.toBe(first.jobId);
      });
    });

    it("the default key is the arguments: equal arguments are duplicates, others are not", async () => {
      await withFixture(wiring, FLOW_CONFIG, async () => {
        const first = await UniqueArgsJob.performLater("a", 1);
        expect((await UniqueArgsJob.performLater("a", 1)).jobId).toBe(first.jobId);
        expect((await UniqueArgsJob.performLater("a", 2)).duplicate).toBe(false);
        expect((await UniqueArgsJob.performLater("b", 1)).duplicate).toBe(false);
      });
    });

    it("inside performAllLater jobs are decided in order: the second of two equal keys is the duplicate", async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        const results = await performAllLater([new UniqueQueuedJob("x"), new UniqueQueuedJob("y"), new UniqueQueuedJob("x")]);
        expect(results.map((result) => result.duplicate)).toEqual([false, false, true]);
        expect(results[2]!.jobId).toBe(results[0]!.jobId);
        expect(await reserve(fixture.adapter, { max: 10 })).toHaveLength(2);
      });
    });

    it("20 concurrent enqueues of one key store exactly one job", async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        const results = await Promise.all(Array.from({ length: 20 }, () => UniqueQueuedJob.performLater("race")));
        expect(new Set(results.map((result) => result.jobId)).size).toBe(1);
        expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
        expect(await reserve(fixture.adapter, { max: 50 })).toHaveLength(1);
      });
    });

    it.runIf(wiring.peer !== undefined)("another process enqueuing the same key at the same time: one job in all", async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        const peer = await wiring.peer!(fixture.adapter);
        try {
          const key = { key: "cross-process", while: "queued" as const };
          const ours = Array.from({ length: 10 }, () => flowPayload({ unique: key }));
          const theirs = Array.from({ length: 10 }, () => flowPayload({ unique: key }));
          const results = (
            await Promise.all([
              ...ours.map((p) => fixture.adapter.enqueue({ jobs: [p] })),
              ...theirs.map((p) => peer.enqueue({ jobs: [p] })),
            ])
          ).flat();
          expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
          expect(new Set(results.map((result) => result.jobId)).size).toBe(1);
        } finally {
          await peer.close();
        }
      });
    });
  });
}
