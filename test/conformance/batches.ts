/**
 * Conformance: batches at the adapter boundary (`capabilities.batches`, the contract in
 * `packages/core/src/adapter/batch.ts`): records counted by `enqueue`, `settle` and
 * `retryDead`, callbacks stored by the backend itself, each at most once. The job-level
 * cases (a real worker, `batch()`, `this.batch`) are in batches-jobs.ts.
 *
 * Each failure message says which part of the contract is missing, for adapter authors.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";

import type { Adapter, BatchCallbackKind, BatchRecord, JobPayload, NewBatch, Reservation, StoredError } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { bodies, payload, reserve, withFixture, type AdapterWiring } from "./harness.js";

const ERROR: StoredError = { name: "Error", message: "boom" };

/** A new batch whose callbacks (RecordJob payloads on queue `callbacks`) are `kinds`. */
function newBatch(kinds: readonly BatchCallbackKind[], description?: string): NewBatch {
  const id = randomUUID();
  const callbacks: NewBatch["callbacks"] = {};
  for (const kind of kinds) callbacks[kind] = payload({ queue: "callbacks", args: { json: [`${kind} of ${id}`] }, batch: { id, callback: kind } });
  return { id, callbacks, createdAt: new Date().toISOString(), ...(description === undefined ? {} : { description }) };
}

/** `count` jobs of batch `id` on the default queue. */
function members(id: string, count: number): JobPayload[] {
  return Array.from({ length: count }, () => payload({ batch: { id } }));
}

async function record(adapter: Adapter, id: string): Promise<BatchRecord> {
  const [found] = await adapter.getBatches!({ ids: [id] });
  expect(found, `getBatches must return the record of batch ${id}`).not.toBeNull();
  return found!;
}

/** Reserves every job of `queue` now ready (a few passes: SQS hands out what it has). */
async function drain(adapter: Adapter, queue: string, expected: number): Promise<Reservation[]> {
  const taken: Reservation[] = [];
  await waitFor(async () => {
    taken.push(...(await reserve(adapter, { queues: [queue], max: 10 })));
    return taken.length >= expected;
  }, { timeoutMs: 5_000, message: `${expected} job(s) ready on queue ${queue} (got ${taken.length})` });
  return taken;
}

/** The callback kinds stored on the `callbacks` queue, sorted, after at least `expected` arrived. */
async function storedCallbacks(adapter: Adapter, expected: number): Promise<{ kinds: BatchCallbackKind[]; payloads: JobPayload[] }> {
  const payloads = bodies(await drain(adapter, "callbacks", expected));
  // Anything more would be a callback stored twice.
  payloads.push(...bodies(await reserve(adapter, { queues: ["callbacks"], max: 10 })));
  return { kinds: payloads.map((job) => job.batch!.callback!).sort(), payloads };
}

async function succeed(adapter: Adapter, reservations: Reservation[]): Promise<void> {
  await adapter.settle({ settlements: reservations.map((reservation) => ({ reservation, outcome: "succeeded" as const })) });
}

export function batchesSuite(wiring: AdapterWiring): void {
  describe.runIf(wiring.capabilities.batches)(`${wiring.name}: batches [batches] (adapter level)`, () => {
    it("openBatches → enqueue → sealBatches → settle: getBatches counts each step; callbacks stored on finish", async () => {
      await withFixture(wiring, async ({ adapter }) => {
        const batch = newBatch(["complete", "success", "failure"], "three rows");
        await adapter.openBatches!({ batches: [batch] });
        expect(await record(adapter, batch.id)).toMatchObject({ id: batch.id, description: "three rows", state: "open", total: 0, pending: 0 });
        await adapter.enqueue({ jobs: members(batch.id, 3) });
        expect(await record(adapter, batch.id), "enqueue must count batch jobs in total and pending").toMatchObject({ state: "open", total: 3, pending: 3 });
        const taken = await drain(adapter, "default", 3);
        await succeed(adapter, taken.slice(0, 1));
        // Open: everything finished so far, but the creator may still be enqueueing.
        expect(await record(adapter, batch.id)).toMatchObject({ state: "open", pending: 2, succeeded: 1 });
        await adapter.sealBatches!({ ids: [batch.id] });
        expect(await record(adapter, batch.id), "sealBatches must move the batch to running").toMatchObject({ state: "running", pending: 2 });
        await succeed(adapter, taken.slice(1));
        const done = await record(adapter, batch.id);
        expect(done).toMatchObject({
          state: "finished",
          total: 3,
          pending: 0,
          succeeded: 3,
          discarded: 0,
          dead: 0,
          failed: 0,
          callbacks: { complete: true, success: true, failure: true },
        });
        expect(done.finishedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
        const { kinds, payloads } = await storedCallbacks(adapter, 2);
        expect(kinds, "a batch with no failure stores complete and success, not failure").toEqual(["complete", "success"]);
        expect(done.enqueuedCallbacks).toEqual({ complete: batch.callbacks.complete!.id, success: batch.callbacks.success!.id });
        // Stored as core built them.
        expect(payloads.find((job) => job.batch!.callback === "success")).toEqual(batch.callbacks.success);
        expect(await adapter.getBatches!({ ids: [randomUUID(), batch.id] })).toEqual([null, expect.objectContaining({ id: batch.id })]);
      });
    });

    it("the last two jobs settled by two concurrent settle calls: each callback stored exactly once", async () => {
      await withFixture(wiring, async ({ adapter }) => {
        // Several batches at once, so a race between the two settles has more than one chance to show.
        const batches = Array.from({ length: 5 }, () => newBatch(["complete", "success"]));
        await adapter.openBatches!({ batches });
        await adapter.enqueue({ jobs: batches.flatMap((batch) => members(batch.id, 2)) });
        await adapter.sealBatches!({ ids: batches.map((batch) => batch.id) });
        const taken = await drain(adapter, "default", 10);
        const byBatch = new Map<string, Reservation[]>();
        for (const reservation of taken) {
          const id = (JSON.parse(reservation.body) as JobPayload).batch!.id;
          byBatch.set(id, [...(byBatch.get(id) ?? []), reservation]);
        }
        const firsts = [...byBatch.values()].map((pair) => pair[0]!);
        const seconds = [...byBatch.values()].map((pair) => pair[1]!);
        await Promise.all([succeed(adapter, firsts), succeed(adapter, seconds)]);
        const { kinds, payloads } = await storedCallbacks(adapter, 10);
        expect(kinds.length, "each batch's complete and success callbacks, once each").toBe(10);
        for (const batch of batches) {
          expect(payloads.filter((job) => job.batch!.id === batch.id).map((job) => job.batch!.callback).sort()).toEqual(["complete", "success"]);
          expect(await record(adapter, batch.id)).toMatchObject({ state: "finished", succeeded: 2, pending: 0 });
        }
      });
    });

    for (const outcome of ["dead", "failed"] as const) {
      it(`a ${outcome === "dead" ? "dead" : "discarded"} job: complete and failure are stored, success is not`, async () => {
        await withFixture(wiring, async ({ adapter }) => {
          const batch = newBatch(["complete", "success", "failure"]);
          await adapter.openBatches!({ batches: [batch] });
          const jobs = members(batch.id, 2);
          await adapter.enqueue({ jobs });
          await adapter.sealBatches!({ ids: [batch.id] });
          const taken = await drain(adapter, "default", 2);
          const [bad, good] = bodies(taken)[0]!.id === jobs[0]!.id ? taken : [taken[1]!, taken[0]!];
          await adapter.settle({
            settlements: [
              outcome === "dead" ? { reservation: bad!, outcome, error: ERROR, payload: JSON.parse(bad!.body) } : { reservation: bad!, outcome, error: ERROR },
              { reservation: good!, outcome: "succeeded" },
            ],
          });
          expect(await record(adapter, batch.id)).toMatchObject({
            state: "finished",
            succeeded: 1,
            pending: 0,
            dead: outcome === "dead" ? 1 : 0,
            discarded: outcome === "failed" ? 1 : 0,
          });
          expect((await storedCallbacks(adapter, 2)).kinds).toEqual(["complete", "failure"]);
        });
      });
    }

    it("a retry counts a failed run; the job stays pending until it finishes", async () => {
      await withFixture(wiring, async ({ adapter }) => {
        const batch = newBatch(["success"]);
        await adapter.openBatches!({ batches: [batch] });
        await adapter.enqueue({ jobs: members(batch.id, 1) });
        await adapter.sealBatches!({ ids: [batch.id] });
        const [first] = await drain(adapter, "default", 1);
        const retried = { ...(JSON.parse(first!.body) as JobPayload), executions: 1 };
        await adapter.settle({ settlements: [{ reservation: first!, outcome: "retry", payload: retried, runAt: new Date(), error: ERROR }] });
        expect(await record(adapter, batch.id), "settle(retry) must count failed, leaving pending").toMatchObject({ state: "running", pending: 1, failed: 1 });
        const [second] = await drain(adapter, "default", 1);
        expect(bodies([second!])[0]!.batch, "a retried job keeps its batch").toEqual({ id: batch.id });
        await succeed(adapter, [second!]);
        expect(await record(adapter, batch.id)).toMatchObject({ state: "finished", succeeded: 1, failed: 1, pending: 0 });
        expect((await storedCallbacks(adapter, 1)).kinds, "a job that failed then succeeded leaves the batch successful").toEqual(["success"]);
      });
    });

    it("a stale settlement (lease expired, job re-reserved) is not counted", async () => {
      await withFixture(wiring, async ({ adapter }) => {
        const batch = newBatch(["complete"]);
        await adapter.openBatches!({ batches: [batch] });
        await adapter.enqueue({ jobs: members(batch.id, 1) });
        await adapter.sealBatches!({ ids: [batch.id] });
        const [first] = await reserve(adapter, { leaseMs: 1000 });
        expect(first).toBeDefined();
        const [again] = await waitFor(async () => {
          const taken = await reserve(adapter, { leaseMs: 30_000 });
          return taken.length > 0 && taken;
        }, { timeoutMs: 10_000, message: "the expired job to come back" });
        await succeed(adapter, [first!]);
        expect(await record(adapter, batch.id), "a settle by a holder whose lease was lost must not count").toMatchObject({ state: "running", pending: 1, succeeded: 0 });
        expect(await reserve(adapter, { queues: ["callbacks"] })).toEqual([]);
        await succeed(adapter, [again!]);
        expect(await record(adapter, batch.id)).toMatchObject({ state: "finished", pending: 0, succeeded: 1 });
        expect((await storedCallbacks(adapter, 1)).kinds).toEqual(["complete"]);
      });
    });

    it("an enqueue naming an unknown batch fails naming the batch id; nothing of the call is stored", async () => {
      await withFixture(wiring, async ({ adapter }) => {
        const unknown = randomUUID();
        await expect(adapter.enqueue({ jobs: [payload(), payload({ batch: { id: unknown } })] })).rejects.toThrow(unknown);
        expect(await reserve(adapter)).toEqual([]);
      });
    });

    it("sealing a batch with no jobs finishes it and stores its callbacks; sealing again changes nothing", async () => {
      await withFixture(wiring, async ({ adapter }) => {
        const batch = newBatch(["complete", "success", "failure"]);
        await adapter.openBatches!({ batches: [batch] });
        await adapter.sealBatches!({ ids: [batch.id] });
        expect(await record(adapter, batch.id)).toMatchObject({ state: "finished", total: 0, pending: 0 });
        await adapter.sealBatches!({ ids: [batch.id] });
        expect((await storedCallbacks(adapter, 2)).kinds).toEqual(["complete", "success"]);
        await expect(adapter.sealBatches!({ ids: [randomUUID()] }), "sealing an unknown batch is an error").rejects.toThrow();
        await expect(adapter.openBatches!({ batches: [batch] }), "opening an id twice is an error").rejects.toThrow(batch.id);
      });
    });

    it("jobs added after the seal by a running batch job keep the batch running until they finish", async () => {
      await withFixture(wiring, async ({ adapter }) => {
        const batch = newBatch(["complete"]);
        await adapter.openBatches!({ batches: [batch] });
        await adapter.enqueue({ jobs: members(batch.id, 1) });
        await adapter.sealBatches!({ ids: [batch.id] });
        const [parent] = await drain(adapter, "default", 1);
        // Fan-out from inside the running job, then the job finishes.
        await adapter.enqueue({ jobs: members(batch.id, 2) });
        await succeed(adapter, [parent!]);
        expect(await record(adapter, batch.id), "jobs enqueued after the seal must be counted").toMatchObject({ state: "running", total: 3, pending: 2, succeeded: 1 });
        expect(await reserve(adapter, { queues: ["callbacks"] })).toEqual([]);
        await succeed(adapter, await drain(adapter, "default", 2));
        expect(await record(adapter, batch.id)).toMatchObject({ state: "finished", total: 3, pending: 0, succeeded: 3 });
        expect((await storedCallbacks(adapter, 1)).kinds).toEqual(["complete"]);
      });
    });

    it.runIf(wiring.capabilities.control)("[control] a cancelled batch job counts as discarded; its batch finishes", async () => {
      await withFixture(wiring, async ({ adapter, client }) => {
        const batch = newBatch(["complete", "success", "failure"]);
        await adapter.openBatches!({ batches: [batch] });
        const [cancelled, ran] = members(batch.id, 2);
        await adapter.enqueue({ jobs: [cancelled!, ran!] });
        await adapter.sealBatches!({ ids: [batch.id] });
        expect(await client.changeJobs({ action: "cancel", ids: [cancelled!.id] })).toEqual([cancelled!.id]);
        expect(await record(adapter, batch.id), "a cancel must count the job as discarded").toMatchObject({ state: "running", pending: 1, discarded: 1 });
        await succeed(adapter, await drain(adapter, "default", 1));
        expect((await storedCallbacks(adapter, 2)).kinds).toEqual(["complete", "failure"]);
      });
    });

    it("retryDead of a dead batch job: pending again, and its later success stores success (complete not again)", async () => {
      await withFixture(wiring, async ({ adapter, client }) => {
        const batch = newBatch(["complete", "success", "failure"]);
        await adapter.openBatches!({ batches: [batch] });
        const [job] = members(batch.id, 1);
        await adapter.enqueue({ jobs: [job!] });
        await adapter.sealBatches!({ ids: [batch.id] });
        const [held] = await drain(adapter, "default", 1);
        await adapter.settle({ settlements: [{ reservation: held!, outcome: "dead", error: ERROR, payload: { ...job!, executions: 1 } }] });
        expect((await storedCallbacks(adapter, 2)).kinds).toEqual(["complete", "failure"]);
        expect(await client.retryDead({ ids: [job!.id] })).toBe(1);
        expect(await record(adapter, batch.id), "retryDead must move a dead batch job back to pending").toMatchObject({ state: "finished", pending: 1, dead: 0 });
        const [revived] = await drain(adapter, "default", 1);
        expect(bodies([revived!])[0]!.batch).toEqual({ id: batch.id });
        await succeed(adapter, [revived!]);
        const done = await record(adapter, batch.id);
        expect(done).toMatchObject({ state: "finished", pending: 0, succeeded: 1, dead: 0 });
        expect(Object.keys(done.enqueuedCallbacks).sort()).toEqual(["complete", "failure", "success"]);
        expect((await storedCallbacks(adapter, 1)).kinds, "only success, once: complete and failure were stored already").toEqual(["success"]);
      });
    });
  });
}
