/**
 * Conformance, status stores' operator side (`StatusStore.control`): the marks an operator
 * leaves for the SQS adapter to honour when a message comes in (cancel, run now), abort marks
 * read by beats, pauses, worker records and throughput. A store's test file wires it:
 *
 *   statusStoreControlSuite("redis", async () => new RedisStatusStore({ url, prefix: fresh() }));
 *
 * The listing cases are in `status-store-listing.ts`, the retention case in `status-store-retention.ts`.
 */
import { describe, expect, it } from "vitest";

import type { HeartbeatOptions, StatusStore, WorkerInfo } from "@errand/core/adapter";

import { HOUR, later, lease, outcome, payload, statusOf, storeRunner } from "./status-store-harness.js";
import { controlOf, listAll, listingCases } from "./status-store-listing.js";
import { retentionControlCases, type CreateWithTtl } from "./status-store-retention.js";

const delivery = (id: string, runAt: string, l = lease()) => ({ id, lease: l, runAt });

function worker(id: string, running: string[] = []): WorkerInfo {
  return { id, host: "h", pid: 1, adapter: "sqs", queues: "reports", concurrency: 2, startedAt: new Date(Date.now() - 1000), running: running.map((job) => ({ id: job, job: "ReportJob", queue: "reports", startedAt: new Date() })) };
}

function beat(store: StatusStore, info: WorkerInfo, options: Partial<HeartbeatOptions> = {}) {
  return controlOf(store).heartbeat({ worker: info, at: new Date(), ttlMs: 5000, finished: [], ...options });
}

/** Registers the operator's-side cases (listing and marks) for one store. */
export function statusStoreControlSuite(name: string, create: () => Promise<StatusStore>, options: { createWithTtl?: CreateWithTtl } = {}): void {
  const withStore = storeRunner(create);

  describe(`${name}: status store, operator's side`, () => {
    listingCases(withStore);
    retentionControlCases(options.createWithTtl);

    it("cancel takes queued, scheduled and retrying jobs (failed, JobCancelledError) and voids every copy of them; others are left alone", async () => {
      await withStore(async (store) => {
        const [queued, scheduled, retried, running] = [payload(), payload({ runAt: later() }), payload(), payload()];
        await store.enqueued([queued, scheduled, retried, running]);
        const [lr, lrun] = [lease(), lease()];
        await store.started([{ id: retried.id, lease: lr }, { id: running.id, lease: lrun }]);
        await store.settled([{ id: retried.id, lease: lr, settlement: outcome.retry(retried, new Date(Date.now() + HOUR)) }]);
        const control = controlOf(store);
        const unknown = "00000000-0000-4000-8000-000000000000";
        expect(await control.cancel([scheduled.id, running.id, unknown, queued.id, retried.id, queued.id])).toEqual([scheduled.id, queued.id, retried.id]);
        for (const id of [queued.id, scheduled.id, retried.id]) {
          expect(await statusOf(store, id)).toMatchObject({ state: "failed", error: { name: "JobCancelledError", code: "ERR_JOB_CANCELLED" }, finishedAt: expect.any(Date) });
        }
        expect((await statusOf(store, running.id)).state).toBe("running");
        expect(await control.cancel([queued.id])).toEqual([]);
        // Every copy of a cancelled job is void, whatever its runAt; the status is left alone.
        const voided = await control.deliveries([delivery(queued.id, queued.runAt), delivery(scheduled.id, "another"), delivery(running.id, running.runAt, lrun)]);
        expect(voided).toEqual([queued.id, scheduled.id]);
        expect((await statusOf(store, queued.id)).state).toBe("failed");
        // Cancelled in one call: one finish time, so newest first is by id, descending.
        expect(ids(await listAll(control, "failed"))).toEqual([queued.id, scheduled.id, retried.id].sort().reverse());
        expect((await control.figures(["reports"]))[0]).toMatchObject({ queued: 0, scheduled: 0, retrying: 0, running: 1, failed: 3 });
      });
    });

    it("deliveries record starts as started does; run now voids the copies carrying the superseded runAt, and queues the job with the body sent", async () => {
      await withStore(async (store) => {
        const [scheduled, other] = [payload({ runAt: later() }), payload({ runAt: later() })];
        await store.enqueued([scheduled, other]);
        const control = controlOf(store);
        const body = JSON.stringify({ ...scheduled, runAt: new Date().toISOString() });
        await control.runNow([{ id: scheduled.id, superseded: scheduled.runAt, body }]);
        const now = await statusOf(store, scheduled.id);
        expect(now.state).toBe("queued");
        expect(now.runAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
        expect((await control.list({ ids: [scheduled.id] })).jobs[0]!.body).toBe(body);
        // The delayed copy is void; the copy sent now (another runAt) runs and is recorded.
        const fresh = delivery(scheduled.id, JSON.parse(body).runAt);
        expect(await control.deliveries([delivery(scheduled.id, scheduled.runAt)])).toEqual([scheduled.id]);
        expect(await control.deliveries([fresh, delivery(other.id, other.runAt)])).toEqual([]);
        expect(await statusOf(store, scheduled.id)).toMatchObject({ state: "running", executions: 1 });
        expect(await store.stale([{ id: scheduled.id, lease: fresh.lease }])).toEqual(new Set());
        // A job the store does not know is left alone, and its deliveries run.
        await control.runNow([{ id: "00000000-0000-4000-8000-000000000000", superseded: "x", body: "{}" }]);
        expect(await control.deliveries([delivery("00000000-0000-4000-8000-000000000000", "x")])).toEqual([]);
      });
    });

    it("abort marks a running job's run: the beat of a worker running it answers it until the run ends; others are left alone", async () => {
      await withStore(async (store) => {
        const [job, other, queued] = [payload(), payload(), payload()];
        await store.enqueued([job, other, queued]);
        const [l1, l2] = [lease(), lease()];
        await store.started([{ id: job.id, lease: l1 }, { id: other.id, lease: l2 }]);
        const control = controlOf(store);
        expect(await control.abort([queued.id, job.id])).toEqual([job.id]);
        expect((await beat(store, worker("w1", [job.id, other.id]))).abort).toEqual([job.id]);
        expect((await beat(store, worker("w2", [other.id]))).abort).toEqual([]);
        expect((await beat(store, worker("w1", [job.id]))).abort).toEqual([job.id]);
        await store.settled([{ id: job.id, lease: l1, settlement: outcome.failed(job.id) }]);
        expect((await beat(store, worker("w1", [job.id]))).abort).toEqual([]);
        expect(await control.abort([job.id])).toEqual([]);
      });
    });

    it("pauses, worker records and throughput: a beat stores its worker and counts, reads the paused queues; stopping removes it", async () => {
      await withStore(async (store) => {
        const control = controlOf(store);
        await control.pauseQueues({ queues: ["mail", "reports"], paused: true });
        await control.pauseQueues({ queues: ["reports"], paused: true });
        const at = new Date();
        const info = worker("w1");
        expect((await beat(store, info, { at, finished: [{ queue: "reports", succeeded: 2, failed: 1 }] })).paused.sort()).toEqual(["mail", "reports"]);
        await beat(store, worker("w2"), { at, finished: [{ queue: "reports", succeeded: 3, failed: 0 }] });
        expect((await control.listWorkers()).map((w) => w.id)).toEqual(["w1", "w2"]);
        expect((await control.listWorkers())[0]).toEqual({ ...info, lastBeatAt: at, ttlMs: 5000 });
        await control.pauseQueues({ queues: ["reports"], paused: false });
        const state = await control.state(3);
        expect(state.paused).toEqual(["mail"]);
        const reports = state.throughput!.reports!;
        expect(reports.succeeded.reduce((a, b) => a + b, 0)).toBe(5);
        expect(reports.failed.reduce((a, b) => a + b, 0)).toBe(1);
        expect(reports.succeeded).toHaveLength(3);
        expect((await control.state()).throughput).toBeUndefined();
        await beat(store, info, { stopping: true });
        expect((await control.listWorkers()).map((w) => w.id)).toEqual(["w2"]);
      });
    });
  });
}

const ids = (jobs: readonly { id: string }[]) => jobs.map((job) => job.id);
