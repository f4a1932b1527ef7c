/**
 * Conformance, status stores' batches: finishing. The settle or seal that leaves a sealed
 * batch with no pending job records its callbacks (statuses and pending sends) in the same
 * step and returns them; each callback kind once in a batch's life; pending sends left
 * unconfirmed are swept; a second delivery of a finished callback is void; settles racing
 * on a batch's last jobs finish it once. Wired by `status-store-batches.ts`.
 */
import { expect, it } from "vitest";

import type { FlowPending, JobPayload, StatusStore } from "@errand/core/adapter";

import { batchesOf, deliver, members, newBatch, recordOf, settle } from "./status-store-batches.js";
import { lease, outcome, statusOf, type WithStore } from "./status-store-harness.js";

/** Delivers and settles each job with `make(job)`; answers every pending send returned. */
async function finishAll(store: StatusStore, jobs: readonly JobPayload[], make = (job: JobPayload) => outcome.succeeded(job.id)): Promise<FlowPending[]> {
  const leases = await deliver(store, jobs);
  const sends: FlowPending[] = [];
  for (const job of jobs) sends.push(...(await settle(store, job.id, leases.get(job.id)!, make(job))));
  return sends;
}

export function batchFinishCases(withStore: WithStore): void {
  it("the last settle of a sealed batch returns its complete and success callbacks as pending sends, their statuses queued", async () => {
    await withStore(async (store) => {
      const batch = newBatch();
      await batchesOf(store).open([batch]);
      const jobs = members(batch.id, 3);
      await store.enqueued(jobs);
      expect(await batchesOf(store).seal([batch.id])).toEqual([]);
      // Sealing again changes nothing.
      expect(await batchesOf(store).seal([batch.id])).toEqual([]);
      const before = Date.now();
      const sends = await finishAll(store, jobs);
      const { complete, success } = batch.callbacks;
      expect(sends.map((s) => s.id).sort()).toEqual([complete!.id, success!.id].sort());
      const sent = sends.find((s) => s.id === complete!.id)!;
      expect(sent).toMatchObject({ queue: "callbacks", runAtMs: Date.parse(complete!.runAt) });
      expect(JSON.parse(sent.body)).toEqual(complete);
      expect(sent.taken).toBeGreaterThanOrEqual(before - 1000);
      expect(await statusOf(store, complete!.id)).toMatchObject({ state: "queued", job: "OncompleteJob", queue: "callbacks" });
      const record = await recordOf(store, batch.id);
      expect(record).toMatchObject({ state: "finished", total: 3, pending: 0, succeeded: 3, enqueuedCallbacks: { complete: complete!.id, success: success!.id } });
      expect(Date.parse(record.finishedAt!)).toBeGreaterThanOrEqual(before - 1000);
      // Confirmed, they are not swept; a duplicate delivery of a finished job finishes nothing again.
      await store.flow!.confirm(sends);
      expect(await store.flow!.sweep({ claimTimeoutMs: 0, limit: 100 })).toEqual([]);
      const [again] = [...(await deliver(store, [jobs[0]!])).values()];
      expect(await settle(store, jobs[0]!.id, again!, outcome.succeeded(jobs[0]!.id))).toEqual([]);
    });
  });

  it("a batch with a dead job enqueues complete and failure, not success; once the dead job is moved back and succeeds, success", async () => {
    await withStore(async (store) => {
      const batch = newBatch();
      await batchesOf(store).open([batch]);
      const [ok, dead] = members(batch.id, 2);
      await store.enqueued([ok!, dead!]);
      await batchesOf(store).seal([batch.id]);
      const sends = await finishAll(store, [ok!, dead!], (job) => (job === dead ? outcome.dead(job.id) : outcome.succeeded(job.id)));
      const { complete, success, failure } = batch.callbacks;
      expect(sends.map((s) => s.id).sort()).toEqual([complete!.id, failure!.id].sort());
      expect(await recordOf(store, batch.id)).toMatchObject({ state: "finished", dead: 1, enqueuedCallbacks: { complete: complete!.id, failure: failure!.id } });
      // retryDead moves it back: pending again; it succeeds: the batch has no dead job left.
      await store.enqueued([dead!]);
      expect(await recordOf(store, batch.id)).toMatchObject({ state: "finished", pending: 1, dead: 0 });
      const late = await finishAll(store, [dead!]);
      expect(late.map((s) => s.id)).toEqual([success!.id]);
      expect(await recordOf(store, batch.id)).toMatchObject({ succeeded: 2, enqueuedCallbacks: { complete: complete!.id, success: success!.id, failure: failure!.id } });
    });
  });

  it("seal finishes a batch whose jobs all finished, or that has none; an open batch never finishes", async () => {
    await withStore(async (store) => {
      const [early, empty] = [newBatch(["complete"]), newBatch(["success"])];
      await batchesOf(store).open([early, empty]);
      const jobs = members(early.id, 2);
      await store.enqueued(jobs);
      expect(await finishAll(store, jobs, (job) => outcome.failed(job.id))).toEqual([]);
      expect(await recordOf(store, early.id)).toMatchObject({ state: "open", pending: 0, discarded: 2 });
      const sends = await batchesOf(store).seal([early.id, empty.id]);
      expect(sends.map((s) => s.id).sort()).toEqual([early.callbacks.complete!.id, empty.callbacks.success!.id].sort());
      expect(await batchesOf(store).seal([early.id, empty.id])).toEqual([]);
      expect((await batchesOf(store).get([early.id, empty.id])).map((r) => r?.state)).toEqual(["finished", "finished"]);
    });
  });

  it("callbacks left unconfirmed (a process killed after the store's decision) are swept, to one process each", async () => {
    await withStore(async (store) => {
      const batch = newBatch(["complete"]);
      await batchesOf(store).open([batch]);
      const jobs = members(batch.id, 1);
      await store.enqueued(jobs);
      await batchesOf(store).seal([batch.id]);
      const [sent] = await finishAll(store, jobs);
      // Never confirmed: the sweep hands it over, renewed, and a second sweep gets nothing.
      const swept = await store.flow!.sweep({ claimTimeoutMs: 0, limit: 100 });
      expect(swept.map((s) => [s.id, s.token, s.body])).toEqual([[sent!.id, sent!.token, sent!.body]]);
      expect(await store.flow!.sweep({ claimTimeoutMs: 60_000, limit: 100 })).toEqual([]);
      await store.flow!.confirm(swept);
      expect(await store.flow!.sweep({ claimTimeoutMs: 0, limit: 100 })).toEqual([]);
    });
  });

  it("a second delivery of a callback whose status is finished is void; a redelivery of one not finished runs", async () => {
    await withStore(async (store) => {
      const batch = newBatch(["complete"]);
      await batchesOf(store).open([batch]);
      const jobs = members(batch.id, 1);
      await store.enqueued(jobs);
      await batchesOf(store).seal([batch.id]);
      await finishAll(store, jobs);
      const callback = batch.callbacks.complete!;
      const control = store.control!;
      const first = { id: callback.id, lease: lease(), runAt: callback.runAt };
      expect(await control.deliveries([first])).toEqual([]);
      // Its lease expired (the worker died): the same message again runs.
      const redelivery = { id: callback.id, lease: lease(), runAt: callback.runAt };
      expect(await control.deliveries([redelivery])).toEqual([]);
      await settle(store, callback.id, redelivery.lease, outcome.succeeded(callback.id));
      // The copy sent twice arrives after it finished: void, its status untouched.
      expect(await control.deliveries([{ id: callback.id, lease: lease(), runAt: callback.runAt }])).toEqual([callback.id]);
      expect(await statusOf(store, callback.id)).toMatchObject({ state: "succeeded", executions: 2 });
    });
  });

  it("a cancelled job of a batch counts as discarded; a batch finished so leaves its callbacks to the next sweep at once", async () => {
    await withStore(async (store) => {
      const batch = newBatch();
      await batchesOf(store).open([batch]);
      const [ran, cancelled] = members(batch.id, 2);
      await store.enqueued([ran!, cancelled!]);
      await batchesOf(store).seal([batch.id]);
      expect(await finishAll(store, [ran!])).toEqual([]);
      expect(await store.control!.cancel([cancelled!.id])).toEqual([cancelled!.id]);
      const { complete, failure } = batch.callbacks;
      expect(await recordOf(store, batch.id)).toMatchObject({ state: "finished", pending: 0, succeeded: 1, discarded: 1, enqueuedCallbacks: { complete: complete!.id, failure: failure!.id } });
      // `cancel` answers ids only: the pending sends are due for any sweep, whatever its bound.
      const swept = await store.flow!.sweep({ claimTimeoutMs: 60_000, limit: 100 });
      expect(swept.map((s) => s.id).sort()).toEqual([complete!.id, failure!.id].sort());
      expect(await statusOf(store, complete!.id)).toMatchObject({ state: "queued" });
    });
  });

  it("settles racing on a batch's last jobs finish it once: its callback is returned by one of them", async () => {
    await withStore(async (store) => {
      const batches = Array.from({ length: 10 }, () => newBatch(["complete"]));
      await batchesOf(store).open(batches);
      const jobs = batches.flatMap((batch) => members(batch.id, 4));
      await store.enqueued(jobs);
      await batchesOf(store).seal(batches.map((b) => b.id));
      const leases = await deliver(store, jobs);
      // Every job settled by its own call, all at once (as many workers would).
      const replies = await Promise.all(jobs.map((job) => settle(store, job.id, leases.get(job.id)!, outcome.succeeded(job.id))));
      const sent = replies.flat().map((s) => s.id);
      expect(sent.sort()).toEqual(batches.map((b) => b.callbacks.complete!.id).sort());
      expect((await batchesOf(store).get(batches.map((b) => b.id))).every((r) => r?.state === "finished" && r.succeeded === 4)).toBe(true);
    });
  });
}
