/**
 * Conformance: acting on jobs (`capabilities.control`, `changeJobs` in adapter/control.ts) —
 * cancel a job that has not started (wherever it waits, flow control included), run a
 * scheduled or retrying job now, mark a running job for abort or interrupt (read back by its worker's
 * beat). Each action returns the ids it applied to and leaves every other job alone.
 */
import { describe, expect, it } from "vitest";

import { jobs, UnsupportedError } from "@errand/core";
import type { JobPayload, StatusRecord } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { FLOW_CONFIG, flowPayload, UniqueActiveJob } from "./flow-jobs.js";
import { reserve, withFixture, type AdapterWiring, type Fixture } from "./harness.js";
import { dueIn, idOf, readySince, retryAt, running, settleInTurn, store, take, workerInfo } from "./operator-harness.js";

const UNKNOWN = "00000000-0000-4000-8000-000000000000";

async function statusOf(fixture: Fixture, id: string): Promise<StatusRecord | null> {
  const [status] = await fixture.adapter.getStatus({ ids: [id] });
  return status ?? null;
}

/** Checks a job reads as cancelled: failed, with core's JobCancelledError. */
async function expectCancelled(fixture: Fixture, id: string): Promise<void> {
  const status = await statusOf(fixture, id);
  expect(status?.state).toBe("failed");
  expect(status?.error).toMatchObject({ name: "JobCancelledError", code: "ERR_JOB_CANCELLED" });
  expect(status?.error?.message).toEqual(expect.any(String));
}

function beat(fixture: Fixture, worker: ReturnType<typeof workerInfo>) {
  return fixture.client.heartbeat({ worker, at: new Date(), ttlMs: 5000, finished: [] });
}

export function controlSuite(wiring: AdapterWiring): void {
  const caps = wiring.capabilities;
  const delays = caps.maxDelayMs >= 3_600_000;

  describe.runIf(caps.control)(`${wiring.name}: acting on jobs [capability control]`, () => {
    it("cancel takes queued, scheduled and retrying jobs out for good (failed, ERR_JOB_CANCELLED, never reserved); running and finished ones are left alone", async () => {
      await withFixture(wiring, async (fixture) => {
        const [queued, soon] = await store(fixture, readySince("cancel", 3000), dueIn("cancel", 1000));
        await store(fixture, readySince("cancel-retry", 3000), readySince("cancel-run", 2000), readySince("cancel-done", 1000));
        const [retried] = await take(fixture, "cancel-retry", 1);
        // Due at once: a reserve would take it, were it not cancelled.
        await retryAt(fixture, retried!, new Date(Date.now() - 1));
        const [runningJob] = await take(fixture, "cancel-run", 1);
        const [done] = await take(fixture, "cancel-done", 1);
        await settleInTurn(fixture, [done!], "succeeded");
        const wanted = [soon!.id, idOf(runningJob!), queued!.id, UNKNOWN, idOf(retried!), idOf(done!)];
        expect(await jobs().cancel(wanted)).toEqual([soon!.id, queued!.id, idOf(retried!)]);
        for (const id of [soon!.id, queued!.id, idOf(retried!)]) await expectCancelled(fixture, id);
        expect((await statusOf(fixture, idOf(runningJob!)))?.state).toBe("running");
        expect((await statusOf(fixture, idOf(done!)))?.state).toBe("succeeded");
        // Past the scheduled job's run time, nothing cancelled is handed out.
        await waitFor(() => Date.now() > Date.parse(soon!.runAt) + 300, { timeoutMs: 5000, message: "the scheduled job's run time to pass" });
        expect(await reserve(fixture.adapter, { queues: ["cancel", "cancel-retry"], max: 10 })).toEqual([]);
        const counts = (await fixture.client.listQueues()).filter((info) => info.name === "cancel" || info.name === "cancel-retry");
        for (const info of counts) expect(info).toMatchObject({ queued: 0, scheduled: 0, retrying: 0 });
        // A job cancelled is no longer waiting: a second cancel, or a run now, applies to nothing.
        expect(await jobs().cancel([queued!.id, soon!.id])).toEqual([]);
        expect(await jobs().runNow([soon!.id])).toEqual([]);
        if (caps.listJobs) {
          const failed = await fixture.client.listJobs({ state: "failed", limit: 50 });
          expect(failed.jobs.map((job) => job.id).sort()).toEqual([soon!.id, queued!.id, idOf(retried!)].sort());
        }
      });
    });

    it.runIf(caps.unique)("[capability unique] cancel of a unique job's holder frees its key", async () => {
      await withFixture(wiring, FLOW_CONFIG, async () => {
        const first = await UniqueActiveJob.performLater("cancel-key");
        expect((await UniqueActiveJob.performLater("cancel-key")).jobId).toBe(first.jobId);
        expect(await jobs().cancel([first.jobId])).toEqual([first.jobId]);
        const second = await UniqueActiveJob.performLater("cancel-key");
        expect(second.duplicate).toBe(false);
        expect(second.jobId).not.toBe(first.jobId);
      });
    });

    it.runIf(caps.concurrencyLimits)("[capability concurrencyLimits] cancel of a job held back by a concurrency limit: it never runs, the key frees as usual", async () => {
      await withFixture(wiring, async (fixture) => {
        const concurrency = { key: "cancel-parked", limit: 1 };
        const queue = "cancel-limit";
        const [holder, held, next] = await store(
          fixture,
          flowPayload({ concurrency }, { queue, runAt: new Date(Date.now() - 3000).toISOString() }),
          flowPayload({ concurrency }, { queue, runAt: new Date(Date.now() - 2000).toISOString() }),
          flowPayload({ concurrency }, { queue, runAt: new Date(Date.now() - 1000).toISOString() }),
        );
        const [lease] = await take(fixture, queue, 1);
        expect(idOf(lease!)).toBe(holder!.id);
        // The key is full: the others are held back.
        expect(await reserve(fixture.adapter, { queues: [queue], max: 10 })).toEqual([]);
        expect(await jobs().cancel([held!.id])).toEqual([held!.id]);
        await expectCancelled(fixture, held!.id);
        await fixture.adapter.settle({ settlements: [{ reservation: lease!, outcome: "succeeded" }] });
        // The slot went to the job after it, never to the cancelled one.
        const [after] = await take(fixture, queue, 1);
        expect(idOf(after!)).toBe(next!.id);
        await fixture.adapter.settle({ settlements: [{ reservation: after!, outcome: "succeeded" }] });
        expect(await reserve(fixture.adapter, { queues: [queue], max: 10 })).toEqual([]);
      });
    });

    it.runIf(caps.rateLimits)("[capability rateLimits] cancel of a job deferred by a rate limit", async () => {
      await withFixture(wiring, async (fixture) => {
        const rateLimit = { key: "cancel-deferred", limit: 1, perMs: 60_000 };
        const [first, deferred] = await store(
          fixture,
          flowPayload({ rateLimit }, { queue: "cancel-rate", runAt: new Date(Date.now() - 2000).toISOString() }),
          flowPayload({ rateLimit }, { queue: "cancel-rate", runAt: new Date(Date.now() - 1000).toISOString() }),
        );
        expect((await take(fixture, "cancel-rate", 1)).map(idOf)).toEqual([first!.id]);
        expect(await reserve(fixture.adapter, { queues: ["cancel-rate"], max: 10 })).toEqual([]);
        expect(await jobs().cancel([deferred!.id])).toEqual([deferred!.id]);
        await expectCancelled(fixture, deferred!.id);
        expect((await fixture.client.listQueues()).find((info) => info.name === "cancel-rate")).toMatchObject({ queued: 0 });
      });
    });

    it.runIf(delays)("runNow makes scheduled and retrying jobs due at once, their payloads otherwise unchanged; others are left alone", async () => {
      await withFixture(wiring, async (fixture) => {
        const [later, queued] = await store(fixture, dueIn("run-now", 3_600_000), readySince("run-now-q", 1000));
        await store(fixture, readySince("run-now-r", 1000));
        const [toRetry] = await take(fixture, "run-now-r", 1);
        await retryAt(fixture, toRetry!, new Date(Date.now() + 3_600_000));
        expect(await reserve(fixture.adapter, { queues: ["run-now", "run-now-r"], max: 10 })).toEqual([]);
        const before = Date.now();
        expect(await jobs().runNow([queued!.id, later!.id, UNKNOWN, idOf(toRetry!)])).toEqual([later!.id, idOf(toRetry!)]);
        const status = await statusOf(fixture, later!.id);
        expect(status?.state).toBe("queued");
        // runAt is now, on the backend's clock: allow a second either way.
        expect(status!.runAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
        expect(status!.runAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
        expect((await statusOf(fixture, idOf(toRetry!)))?.state).toBe("queued");
        const [reservation] = await take(fixture, "run-now", 1);
        const body = JSON.parse(reservation!.body) as JobPayload;
        expect({ ...body, runAt: later!.runAt }).toEqual(later);
        expect(Date.parse(body.runAt)).toBeLessThan(Date.parse(later!.runAt));
        const [retriedNow] = await take(fixture, "run-now-r", 1);
        expect(JSON.parse(retriedNow!.body)).toMatchObject({ id: idOf(toRetry!), executions: 1 });
        expect((await statusOf(fixture, queued!.id))?.state).toBe("queued");
      });
    });

    it("abort marks a running job: the beat of the worker running it returns its id, another worker's does not, and the mark is gone once the job settles", async () => {
      await withFixture(wiring, async (fixture) => {
        await store(fixture, readySince("abort", 2000), readySince("abort", 1000));
        const [job, other] = await take(fixture, "abort", 2);
        const [queued] = await store(fixture, readySince("abort-q", 1000));
        expect(await jobs().abort([queued!.id, idOf(job!), UNKNOWN])).toEqual([idOf(job!)]);
        // Marked only: it runs on until its worker aborts it.
        expect((await statusOf(fixture, idOf(job!)))?.state).toBe("running");
        const mine = workerInfo("worker-running-it", [running(job!), running(other!)]);
        expect(await beat(fixture, mine)).toMatchObject({ abort: [idOf(job!)] });
        expect((await beat(fixture, workerInfo("worker-elsewhere", [running(other!)]))).abort).toEqual([]);
        // Read again by the next beat, until the job settles.
        expect((await beat(fixture, mine)).abort).toEqual([idOf(job!)]);
        await fixture.adapter.settle({ settlements: [{ reservation: job!, outcome: "failed", error: { name: "JobAbortedError", code: "ERR_JOB_ABORTED", message: "aborted" } }] });
        expect((await beat(fixture, mine)).abort).toEqual([]);
        expect(await jobs().abort([idOf(job!)])).toEqual([]);
      });
    });

    it("interrupt marks a running job of its own kind: a later abort of the run wins, a later interrupt leaves an abort; released, the mark is gone", async () => {
      await withFixture(wiring, async (fixture) => {
        await store(fixture, readySince("interrupt", 2000), readySince("interrupt", 1000));
        const [job, other] = await take(fixture, "interrupt", 2);
        const mine = workerInfo("worker-running-both", [running(job!), running(other!)]);
        expect(await jobs().interrupt([idOf(job!), idOf(other!), UNKNOWN])).toEqual([idOf(job!), idOf(other!)]);
        expect(await beat(fixture, mine)).toMatchObject({ abort: [], interrupt: [idOf(job!), idOf(other!)] });
        expect(await jobs().abort([idOf(job!)])).toEqual([idOf(job!)]);
        expect(await beat(fixture, mine)).toMatchObject({ abort: [idOf(job!)], interrupt: [idOf(other!)] });
        // An interrupt of an aborted run is answered (the run is marked) but the abort stays.
        expect(await jobs().interrupt([idOf(job!)])).toEqual([idOf(job!)]);
        expect(await beat(fixture, mine)).toMatchObject({ abort: [idOf(job!)], interrupt: [idOf(other!)] });
        await fixture.adapter.settle({ settlements: [{ reservation: other!, outcome: "released" }] });
        expect(await beat(fixture, mine)).toMatchObject({ abort: [idOf(job!)], interrupt: [] });
        // Its next run is a new one: the mark made for the last does not reach it.
        const [again] = await take(fixture, "interrupt", 1);
        expect(idOf(again!)).toBe(idOf(other!));
        expect((await beat(fixture, workerInfo("worker-running-both", [running(job!), running(again!)]))).interrupt).toEqual([]);
      });
    });
  });

  describe.skipIf(caps.control)(`${wiring.name}: acting on jobs [no capability control]`, () => {
    it("cancel, runNow and abort are refused with UnsupportedError naming the capability, and change nothing", async () => {
      await withFixture(wiring, async (fixture) => {
        const [queued] = await store(fixture, readySince("default", 1000));
        await expect(fixture.client.changeJobs({ action: "cancel", ids: [queued!.id] })).rejects.toThrow(UnsupportedError);
        await expect(jobs().cancel([queued!.id])).rejects.toThrow(/capability control/);
        await expect(jobs().runNow([queued!.id])).rejects.toThrow(/capability control/);
        await expect(jobs().abort([queued!.id])).rejects.toThrow(/capability control/);
        expect((await take(fixture, "default", 1)).map(idOf)).toEqual([queued!.id]);
      });
    });
  });
}
