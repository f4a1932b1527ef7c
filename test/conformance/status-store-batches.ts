/**
 * Conformance, status stores' batches (`StatusStore.batches`, for the SQS adapter): the
 * counts of `adapter/batch.ts` kept inside `enqueued` and `settled`, idempotent per job, and
 * a finished batch's callbacks recorded as pending sends of the flow in the same step. A
 * store's test file wires it:
 *
 *   statusStoreBatchesSuite("redis", async () => new RedisStatusStore({ url, prefix: fresh() }));
 *
 * The cases of finishing (callbacks, sends, sweeps, duplicate deliveries, racing settles)
 * are in `status-store-batch-finish.ts`; fixtures shared by both are here.
 */
import { describe, expect, it } from "vitest";

import { uuidv7, type BatchCallbackKind, type JobPayload, type NewBatch, type Settlement, type StatusStore, type StatusStoreBatches } from "@errand/core/adapter";

import { batchFinishCases } from "./status-store-batch-finish.js";
import { lease, outcome, payload, statusOf, storeRunner, type WithStore } from "./status-store-harness.js";

/** The store's batches, which the cases need. */
export function batchesOf(store: StatusStore): StatusStoreBatches {
  expect(store.batches, "store.batches").toBeDefined();
  return store.batches!;
}

/** A new batch with callbacks of these kinds, as core builds it. */
export function newBatch(kinds: BatchCallbackKind[] = ["complete", "success", "failure"], description?: string): NewBatch {
  const id = uuidv7();
  const callbacks: NewBatch["callbacks"] = {};
  for (const kind of kinds) callbacks[kind] = payload({ job: `On${kind}Job`, queue: "callbacks", batch: { id, callback: kind } });
  return { id, callbacks, createdAt: new Date().toISOString(), ...(description === undefined ? {} : { description }) };
}

/** Payloads of `count` jobs in batch `id`. */
export function members(id: string, count: number): JobPayload[] {
  return Array.from({ length: count }, () => payload({ batch: { id } }));
}

/** Delivers jobs (one lease each) and answers their leases by id. */
export async function deliver(store: StatusStore, jobs: readonly JobPayload[]): Promise<Map<string, string>> {
  const leases = new Map(jobs.map((job) => [job.id, lease()]));
  await store.started([...leases].map(([id, l]) => ({ id, lease: l })));
  return leases;
}

/** Settles one delivery; answers the pending sends it returned (none: []). */
export async function settle(store: StatusStore, id: string, l: string, settlement: Settlement) {
  return (await store.settled([{ id, lease: l, settlement }])) ?? [];
}

/** The batch record of `id`, which must exist. */
export async function recordOf(store: StatusStore, id: string) {
  const [record] = await batchesOf(store).get([id]);
  expect(record, `batch ${id}`).not.toBeNull();
  return record!;
}

/** Registers the batch cases for one (shared) store. */
export function statusStoreBatchesSuite(name: string, create: () => Promise<StatusStore>): void {
  const withStore = storeRunner(create);

  describe(`${name}: status store, batches`, () => {
    countingCases(withStore);
    batchFinishCases(withStore);
  });
}

function countingCases(withStore: WithStore): void {
  it("open stores a batch open with every count at 0; an id stored twice and unknown ids are answered", async () => {
    await withStore(async (store) => {
      const batch = newBatch(["complete", "success"], "import rows");
      await batchesOf(store).open([batch]);
      expect(await recordOf(store, batch.id)).toEqual({
        id: batch.id,
        description: "import rows",
        state: "open",
        total: 0,
        pending: 0,
        succeeded: 0,
        discarded: 0,
        dead: 0,
        failed: 0,
        callbacks: { complete: true, success: true },
        enqueuedCallbacks: {},
        createdAt: batch.createdAt,
      });
      await expect(batchesOf(store).open([newBatch(), batch])).rejects.toThrow(batch.id);
      const unknown = uuidv7();
      expect(await batchesOf(store).get([unknown, batch.id])).toEqual([null, expect.objectContaining({ id: batch.id })]);
      await expect(batchesOf(store).seal([unknown])).rejects.toThrow(unknown);
    });
  });

  it("enqueued counts each job of a batch once; a job naming an unknown batch fails the call, storing nothing", async () => {
    await withStore(async (store) => {
      const batch = newBatch();
      await batchesOf(store).open([batch]);
      const jobs = members(batch.id, 3);
      const plain = payload();
      await store.enqueued([...jobs, plain]);
      // A resend of a job counted pending (the outbox relay, an enqueue retried) counts nothing.
      await store.enqueued([jobs[0]!]);
      expect(await recordOf(store, batch.id)).toMatchObject({ state: "open", total: 3, pending: 3 });
      const unknown = uuidv7();
      const stray = payload({ batch: { id: unknown } });
      const other = payload();
      await expect(store.enqueued([other, stray])).rejects.toThrow(unknown);
      expect(await store.get([other.id, stray.id])).toEqual([null, null]);
    });
  });

  it("settled counts current settlements once: stale ones, duplicate deliveries of a finished job and releases count nothing", async () => {
    await withStore(async (store) => {
      const batch = newBatch();
      await batchesOf(store).open([batch]);
      const [ok, discarded, dead, retried, released] = members(batch.id, 5);
      await store.enqueued([ok!, discarded!, dead!, retried!, released!]);
      const leases = await deliver(store, [ok!, discarded!, dead!, retried!, released!]);
      // `ok` is delivered again (its first lease expired): the first holder's settlement is stale.
      const stale = leases.get(ok!.id)!;
      const [again] = [...(await deliver(store, [ok!])).values()];
      expect(await settle(store, ok!.id, stale, outcome.succeeded(ok!.id))).toEqual([]);
      expect(await recordOf(store, batch.id)).toMatchObject({ succeeded: 0, pending: 5 });
      await settle(store, ok!.id, again!, outcome.succeeded(ok!.id));
      // A duplicate delivery of the finished job, settled: its status and the counts stay.
      const [dup] = [...(await deliver(store, [ok!])).values()];
      await settle(store, ok!.id, dup!, outcome.succeeded(ok!.id));
      await settle(store, discarded!.id, leases.get(discarded!.id)!, outcome.failed(discarded!.id));
      await settle(store, dead!.id, leases.get(dead!.id)!, outcome.dead(dead!.id));
      await settle(store, retried!.id, leases.get(retried!.id)!, outcome.retry(retried!, new Date()));
      await settle(store, released!.id, leases.get(released!.id)!, outcome.released(released!.id));
      expect(await recordOf(store, batch.id)).toMatchObject({ state: "open", total: 5, pending: 2, succeeded: 1, discarded: 1, dead: 1, failed: 1 });
      // The retried job runs again and fails again: one more failed run.
      const [second] = [...(await deliver(store, [retried!])).values()];
      await settle(store, retried!.id, second!, outcome.retry({ ...retried!, executions: 1 }, new Date()));
      expect(await recordOf(store, batch.id)).toMatchObject({ pending: 2, failed: 2 });
      expect(await statusOf(store, ok!.id)).toMatchObject({ state: "succeeded" });
    });
  });

  it("a dead job moved back counts as pending again; a deleted job counted pending leaves the batch", async () => {
    await withStore(async (store) => {
      const batch = newBatch();
      await batchesOf(store).open([batch]);
      const [dead, refused, other] = members(batch.id, 3);
      await store.enqueued([dead!, refused!, other!]);
      const leases = await deliver(store, [dead!]);
      await settle(store, dead!.id, leases.get(dead!.id)!, outcome.dead(dead!.id));
      expect(await recordOf(store, batch.id)).toMatchObject({ total: 3, pending: 2, dead: 1 });
      // retryDead: the job is enqueued again, with its batch.
      await store.enqueued([{ ...dead!, executions: 0 }]);
      expect(await recordOf(store, batch.id)).toMatchObject({ total: 3, pending: 3, dead: 0 });
      // An enqueue the backend refused: its status is deleted, and it leaves the batch.
      await store.delete([refused!.id]);
      expect(await recordOf(store, batch.id)).toMatchObject({ total: 2, pending: 2 });
    });
  });

  it("jobs added to a running batch (fan-out) are counted; it cannot finish while the adding job runs", async () => {
    await withStore(async (store) => {
      const batch = newBatch(["complete"]);
      await batchesOf(store).open([batch]);
      const [parent] = members(batch.id, 1);
      await store.enqueued([parent!]);
      expect(await batchesOf(store).seal([batch.id])).toEqual([]);
      const leases = await deliver(store, [parent!]);
      const children = members(batch.id, 2);
      await store.enqueued(children);
      expect(await settle(store, parent!.id, leases.get(parent!.id)!, outcome.succeeded(parent!.id))).toEqual([]);
      expect(await recordOf(store, batch.id)).toMatchObject({ state: "running", total: 3, pending: 2, succeeded: 1 });
      const childLeases = await deliver(store, children);
      expect(await settle(store, children[0]!.id, childLeases.get(children[0]!.id)!, outcome.succeeded(children[0]!.id))).toEqual([]);
      const sends = await settle(store, children[1]!.id, childLeases.get(children[1]!.id)!, outcome.succeeded(children[1]!.id));
      expect(sends.map((s) => s.id)).toEqual([batch.callbacks.complete!.id]);
      expect(await recordOf(store, batch.id)).toMatchObject({ state: "finished", total: 3, pending: 0, succeeded: 3 });
    });
  });
}
