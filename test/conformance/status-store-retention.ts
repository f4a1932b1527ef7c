/**
 * Conformance, status stores: how long finished statuses are kept. Succeeded and failed ones
 * go after `finishedTtlMs` (24 h by default), dead ones after `deadTtlMs` (14 days by default),
 * independently: on SQS the dead set is the dead-letter queue, which keeps a message 14 days,
 * and the operator's dead listing must show what it holds instead of going empty after a day.
 * A dead job retried (revived from the dead set) follows its new state as any job does.
 *
 * The plain cases run on every store (`statusStoreSuite`); the listing and counting case on
 * the stores with an operator's side (`statusStoreControlSuite`). Both build stores through
 * the suite's `createWithTtl`, and wait (with a deadline) for a 1 ms retention to pass.
 */
import { describe, expect, it } from "vitest";

import { ConfigError, type JobPayload, type StatusStore } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { HOUR, lease, outcome, payload, statusOf, storeRunner } from "./status-store-harness.js";
import { controlOf } from "./status-store-listing.js";

/** The retentions a store is built with; a value left out takes the store's default. */
export interface StatusTtls {
  finishedTtlMs?: number;
  deadTtlMs?: number;
}

/** A fresh store with these retentions (it may refuse them: the validation case expects a ConfigError). */
export type CreateWithTtl = (ttls: StatusTtls) => Promise<StatusStore>;

/** Enqueues and starts `jobs`, then settles the first succeeded, the second failed, the third dead. */
async function finish(store: StatusStore, [succeeded, failed, dead]: JobPayload[]): Promise<void> {
  const leases = [lease(), lease(), lease()];
  const jobs = [succeeded!, failed!, dead!];
  await store.enqueued(jobs);
  await store.started(jobs.map((job, i) => ({ id: job.id, lease: leases[i]! })));
  await store.settled([
    { id: succeeded!.id, lease: leases[0]!, settlement: outcome.succeeded(succeeded!.id) },
    { id: failed!.id, lease: leases[1]!, settlement: outcome.failed(failed!.id) },
    { id: dead!.id, lease: leases[2]!, settlement: outcome.dead(dead!.id) },
  ]);
}

const gone = async (store: StatusStore, ...ids: string[]) => (await store.get(ids)).every((record) => record === null);

/** Registers the retention cases every status store passes. */
export function retentionCases(createWithTtl: CreateWithTtl | undefined): void {
  const run = (ttls: StatusTtls) => storeRunner(() => createWithTtl!(ttls));

  describe.skipIf(!createWithTtl)("retention of finished statuses", () => {
    it("a dead status is kept deadTtlMs, apart from finishedTtlMs: succeeded and failed ones go, the dead one stays", async () => {
      await run({ finishedTtlMs: 1, deadTtlMs: HOUR })(async (store) => {
        const jobs = [payload(), payload(), payload()];
        await finish(store, jobs);
        await waitFor(() => gone(store, jobs[0]!.id, jobs[1]!.id), { message: "succeeded and failed statuses expired" });
        expect(await statusOf(store, jobs[2]!.id)).toMatchObject({ state: "dead", error: { message: "boom" } });
      });
    });

    it("the other way round: a short deadTtlMs lets the dead status go while a long finishedTtlMs keeps the others", async () => {
      await run({ finishedTtlMs: HOUR, deadTtlMs: 1 })(async (store) => {
        const jobs = [payload(), payload(), payload()];
        await finish(store, jobs);
        await waitFor(() => gone(store, jobs[2]!.id), { message: "dead status expired" });
        expect((await store.get([jobs[0]!.id, jobs[1]!.id])).map((record) => record?.state)).toEqual(["succeeded", "failed"]);
      });
    });

    it("a dead job retried follows its new state: once it succeeds, it goes with finishedTtlMs", async () => {
      await run({ finishedTtlMs: 1, deadTtlMs: HOUR })(async (store) => {
        const job = payload();
        const [first, second] = [lease(), lease()];
        await store.enqueued([job]);
        await store.started([{ id: job.id, lease: first }]);
        await store.settled([{ id: job.id, lease: first, settlement: outcome.dead(job.id) }]);
        // Revived from the dead set: enqueued afresh, run, succeeded.
        await store.enqueued([job]);
        expect(await statusOf(store, job.id)).toMatchObject({ state: "queued" });
        await store.started([{ id: job.id, lease: second }]);
        await store.settled([{ id: job.id, lease: second, settlement: outcome.succeeded(job.id) }]);
        await waitFor(() => gone(store, job.id), { message: "the revived job's succeeded status expired" });
      });
    });

    it("deadTtlMs must be a positive number of ms: anything else is a ConfigError naming it", async () => {
      for (const bad of [0, -1, Number.NaN, "14d"]) {
        await expect(createWithTtl!({ deadTtlMs: bad as number }), `deadTtlMs ${String(bad)}`).rejects.toThrow(ConfigError);
        await expect(createWithTtl!({ deadTtlMs: bad as number })).rejects.toThrow(/deadTtlMs/);
      }
    });
  });
}

/** Registers the retention case of the operator's side: listings and counts follow each state's retention. */
export function retentionControlCases(createWithTtl: CreateWithTtl | undefined): void {
  describe.skipIf(!createWithTtl)("operator's side: retention", () => {
    it("finishedTtlMs short, deadTtlMs long: succeeded and failed leave the listings and counts, the dead job is listed and counted", async () => {
      await storeRunner(() => createWithTtl!({ finishedTtlMs: 1, deadTtlMs: HOUR }))(async (store) => {
        const control = controlOf(store);
        const jobs = [payload(), payload(), payload()];
        const dead = jobs[2]!;
        await finish(store, jobs);
        const listed = async (state: "succeeded" | "failed" | "dead") => (await control.list({ state, limit: 10 })).jobs.map((job) => job.id);
        await waitFor(async () => (await listed("succeeded")).length === 0 && (await listed("failed")).length === 0, {
          message: "succeeded and failed statuses left the listings",
        });
        expect(await listed("dead")).toEqual([dead.id]);
        expect((await control.list({ state: "dead", queue: dead.queue, job: dead.job, limit: 10 })).jobs).toMatchObject([{ id: dead.id, state: "dead" }]);
        expect((await control.figures([dead.queue]))[0]).toMatchObject({ succeeded: 0, failed: 0, dead: 1 });
        // Retried from the dead set: it leaves the dead listing and count, and waits as queued.
        await store.enqueued([dead]);
        expect(await listed("dead")).toEqual([]);
        expect((await control.figures([dead.queue]))[0]).toMatchObject({ queued: 1, dead: 0 });
      });
    });
  });
}
