// Batches in the PostgreSQL adapter (migration 019), at the adapter's level: what the enqueue,
// settle, cancel and revive statements count, the callbacks inserted by the step that
// finishes a batch (once, however many transactions settle its last jobs at the same
// moment), the refusal of an unknown batch, retention of finished records, and the upgrade
// of a schema at 018. The contract's own cases are in test/conformance/batches.ts.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { PostgresAdapter, migrate } from "@errand/adapter-postgres";
import { uuidv7, type BatchCallbackKind, type JobPayload, type Reservation } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";
import pg from "pg";

import { payload } from "./conformance/harness.js";
import { postgresUrl } from "./support/postgres.js";
import { freshPostgresAdapters } from "./support/postgres-adapters.js";

const url = postgresUrl();
const freshAdapter = freshPostgresAdapters();
const failure = { name: "Error", message: "it broke" };

/** Opens a batch with callbacks of `kinds` (each to queue `cb`), answering its id and the callbacks' job ids. */
async function openBatch(adapter: PostgresAdapter, kinds: BatchCallbackKind[] = ["success", "complete", "failure"]) {
  const id = uuidv7();
  const callbacks: Partial<Record<BatchCallbackKind, JobPayload>> = {};
  for (const kind of kinds) callbacks[kind] = payload({ id: uuidv7(), job: `On${kind}Job`, queue: "cb", batch: { id, callback: kind } });
  await adapter.openBatches({ batches: [{ id, description: "a test batch", callbacks, createdAt: new Date().toISOString() }] });
  const callbackIds = Object.fromEntries(Object.entries(callbacks).map(([kind, job]) => [kind, job.id])) as Partial<Record<BatchCallbackKind, string>>;
  return { id, callbackIds };
}

/** Reserves every due job of `queue` (one call). */
const reserveAll = (adapter: PostgresAdapter, queue = "default", max = 100) =>
  adapter.reserve({ queues: [queue], max, leaseMs: 30_000, waitMs: 0, workerId: "batches" });

const succeed = (adapter: PostgresAdapter, reservations: Reservation[]) =>
  adapter.settle({ settlements: reservations.map((reservation) => ({ reservation, outcome: "succeeded" as const })) });

const batchOf = async (adapter: PostgresAdapter, id: string) => (await adapter.getBatches({ ids: [id] }))[0];

/** The ids of the stored jobs of queue `cb` (the callbacks). */
async function callbackJobs(adapter: PostgresAdapter): Promise<string[]> {
  const { rows } = await adapter.pool.query<{ id: string }>(`SELECT id FROM "${adapter.schema}".jobs WHERE queue = 'cb' ORDER BY id`);
  return rows.map((row) => row.id);
}

describe("postgres batches: counting", () => {
  it("counts enqueues (plain, mixed and flow), settles of every outcome and revivals; finishes at seal or settle with the callbacks that apply", async () => {
    const adapter = freshAdapter();
    try {
      const { id, callbackIds } = await openBatch(adapter);
      const inBatch = (overrides: Partial<JobPayload> = {}) => payload({ id: uuidv7(), batch: { id }, ...overrides });
      const plain = [inBatch(), inBatch()];
      await adapter.enqueue({ jobs: plain }); // enqueue-uniform
      await adapter.enqueue({ jobs: [inBatch({ job: "OtherJob", priority: 3 }), payload({ id: uuidv7() })] }); // enqueue, one job outside
      await adapter.enqueue({ jobs: [inBatch({ flow: { unique: { key: `u-${id}`, while: "queued" } } })] }); // enqueue_flow
      await adapter.enqueue({ jobs: plain }); // a resend: stored already, not counted again
      expect(await batchOf(adapter, id)).toMatchObject({
        id, description: "a test batch", state: "open", total: 4, pending: 4, succeeded: 0, failed: 0, discarded: 0, dead: 0,
        callbacks: { success: true, complete: true, failure: true }, enqueuedCallbacks: {},
      });

      const reserved = await reserveAll(adapter);
      expect(reserved).toHaveLength(5);
      const mine = reserved.filter((r) => (JSON.parse(r.body) as JobPayload).batch?.id === id);
      const [a, b, c, d] = mine as [Reservation, Reservation, Reservation, Reservation];
      const retried = JSON.parse(b.body) as JobPayload;
      await adapter.settle({
        settlements: [
          { reservation: a, outcome: "succeeded" },
          { reservation: b, outcome: "retry", payload: { ...retried, executions: 1 }, runAt: new Date(), error: failure },
          { reservation: c, outcome: "dead", error: failure },
          { reservation: d, outcome: "released" },
          ...reserved.filter((r) => !mine.includes(r)).map((reservation) => ({ reservation, outcome: "succeeded" as const })),
        ],
      });
      // Open: nothing finishes before the seal, whatever is pending.
      expect(await batchOf(adapter, id)).toMatchObject({ state: "open", total: 4, pending: 2, succeeded: 1, failed: 1, dead: 1, discarded: 0 });
      await adapter.sealBatches({ ids: [id] });
      expect(await batchOf(adapter, id)).toMatchObject({ state: "running", pending: 2 });

      await succeed(adapter, await reserveAll(adapter));
      const finished = await batchOf(adapter, id);
      expect(finished).toMatchObject({ state: "finished", pending: 0, succeeded: 3, dead: 1, enqueuedCallbacks: { complete: callbackIds.complete, failure: callbackIds.failure } });
      expect(finished?.enqueuedCallbacks.success).toBeUndefined();
      expect(finished?.finishedAt).toEqual(expect.any(String));
      expect(await callbackJobs(adapter)).toEqual([callbackIds.complete, callbackIds.failure].sort());
      const callbacks = await reserveAll(adapter, "cb");
      expect(callbacks.map((r) => (JSON.parse(r.body) as JobPayload).batch).sort((x, y) => String(x?.callback).localeCompare(String(y?.callback))))
        .toEqual([{ id, callback: "complete" }, { id, callback: "failure" }]);

      // The dead job retried by hand: pending again; when it succeeds, the batch has no failed
      // job left, and the success callback (never enqueued) is; the others are not again.
      const moved = await adapter.retryDead({ select: { ids: [c.providerJobId] }, revive: (body) => ({ payload: JSON.parse(body) as JobPayload, body }) });
      expect(moved).toBe(1);
      expect(await batchOf(adapter, id)).toMatchObject({ state: "finished", pending: 1, dead: 0 });
      await succeed(adapter, await reserveAll(adapter));
      expect(await batchOf(adapter, id)).toMatchObject({ state: "finished", pending: 0, succeeded: 4, dead: 0, enqueuedCallbacks: callbackIds });
      expect(await callbackJobs(adapter)).toEqual(Object.values(callbackIds).sort());
    } finally {
      await adapter.close();
    }
  });

  it("finishes an empty batch at its seal, and a batch whose last pending job is cancelled (discarded)", async () => {
    const adapter = freshAdapter();
    try {
      const empty = await openBatch(adapter, ["success", "complete"]);
      await adapter.sealBatches({ ids: [empty.id] });
      await adapter.sealBatches({ ids: [empty.id] }); // sealed already: nothing changes
      expect(await batchOf(adapter, empty.id)).toMatchObject({ state: "finished", total: 0, enqueuedCallbacks: empty.callbackIds });

      const { id, callbackIds } = await openBatch(adapter);
      const job = payload({ id: uuidv7(), batch: { id } });
      await adapter.enqueue({ jobs: [job] });
      await adapter.sealBatches({ ids: [id] });
      expect(await adapter.changeJobs({ action: "cancel", ids: [job.id] })).toEqual([job.id]);
      expect(await batchOf(adapter, id)).toMatchObject({
        state: "finished", pending: 0, discarded: 1, enqueuedCallbacks: { complete: callbackIds.complete, failure: callbackIds.failure },
      });
      expect(await callbackJobs(adapter)).toEqual([...Object.values(empty.callbackIds), callbackIds.complete, callbackIds.failure].sort());
    } finally {
      await adapter.close();
    }
  });
});

describe("postgres batches: refusals", () => {
  it("refuses an enqueue naming an unknown batch, storing nothing of it, and names the id; an id opened twice; a seal of an unknown batch", async () => {
    const adapter = freshAdapter();
    try {
      const unknown = uuidv7();
      const outside = payload({ id: uuidv7() });
      await expect(adapter.enqueue({ jobs: [outside, payload({ id: uuidv7(), batch: { id: unknown } })] })).rejects.toThrow(new RegExp(`no batch ${unknown}`));
      await expect(adapter.enqueue({ jobs: [payload({ id: uuidv7(), job: "X", batch: { id: unknown } }), payload({ id: uuidv7(), job: "Y" })] })).rejects.toThrow(unknown);
      await expect(adapter.enqueue({ jobs: [payload({ id: uuidv7(), batch: { id: unknown }, flow: { unique: { key: "k", while: "queued" } } })] })).rejects.toThrow(unknown);
      expect(await adapter.getStatus({ ids: [outside.id] })).toEqual([null]);
      await expect(adapter.enqueue({ jobs: [payload({ id: uuidv7(), batch: { id: "not-a-uuid" } })] })).rejects.toThrow(/"not-a-uuid", which is no batch id/);

      const { id } = await openBatch(adapter);
      await expect(openBatch(adapter).then(() => adapter.openBatches({ batches: [{ id, callbacks: {}, createdAt: new Date().toISOString() }] }))).rejects.toThrow(
        new RegExp(`batch ${id} is stored already`),
      );
      const missing = randomUUID();
      await expect(adapter.sealBatches({ ids: [id, missing] })).rejects.toThrow(new RegExp(`no batch ${missing} to seal`));
      expect(await batchOf(adapter, id)).toMatchObject({ state: "open" }); // the call changed nothing
      expect(await adapter.getBatches({ ids: [missing, id, "nope"] })).toEqual([null, expect.objectContaining({ id }), null]);
    } finally {
      await adapter.close();
    }
  });
});

describe("postgres batches: the last two jobs settled at once", () => {
  it("two adapters (two pools) settling a batch's last two jobs in the same instant finish it once, 50 times over", async () => {
    const first = freshAdapter({ poolSize: 2 });
    const second = new PostgresAdapter({ url, schema: first.schema, poolSize: 2 });
    try {
      for (let round = 0; round < 50; round++) {
        const { id, callbackIds } = await openBatch(first, ["complete", "success"]);
        await first.enqueue({ jobs: [payload({ id: uuidv7(), batch: { id } }), payload({ id: uuidv7(), batch: { id } })] });
        await first.sealBatches({ ids: [id] });
        const [one] = await reserveAll(first, "default", 1);
        const [two] = await reserveAll(second, "default", 1);
        // Every other round a mixed settle (settle.sql) on one side.
        const mixed = round % 2 === 1;
        await Promise.all([
          succeed(first, [one!]),
          mixed ? second.settle({ settlements: [{ reservation: two!, outcome: "failed", error: failure }] }) : succeed(second, [two!]),
        ]);
        expect(await batchOf(first, id)).toMatchObject({
          state: "finished", pending: 0, succeeded: mixed ? 1 : 2, discarded: mixed ? 1 : 0,
          enqueuedCallbacks: mixed ? { complete: callbackIds.complete } : callbackIds,
        });
        const stored = await callbackJobs(first);
        expect(stored).toEqual((mixed ? [callbackIds.complete!] : [callbackIds.complete!, callbackIds.success!]).sort());
        await succeed(first, await reserveAll(first, "cb"));
        await first.pool.query(`DELETE FROM "${first.schema}".jobs WHERE queue = 'cb'`);
      }
    } finally {
      await second.close();
      await first.close();
    }
  });
});

describe("postgres batches: retention", () => {
  it("deletes finished batch records past the finished jobs' retention, and keeps open and running ones", async () => {
    const adapter = freshAdapter({ retentionMs: 300, retentionCheckMs: 0 });
    try {
      const done = await openBatch(adapter, ["complete"]);
      await adapter.sealBatches({ ids: [done.id] });
      const open = await openBatch(adapter, ["complete"]);
      const running = await openBatch(adapter, ["complete"]);
      await adapter.enqueue({ jobs: [payload({ id: uuidv7(), queue: "held", batch: { id: running.id } })] });
      await adapter.sealBatches({ ids: [running.id] });
      expect(await batchOf(adapter, done.id)).toMatchObject({ state: "finished" });
      // Each reserve starts a retention step beside it (upkeep.ts) once the record is old enough.
      await waitFor(async () => {
        await reserveAll(adapter, "nothing-here");
        return (await batchOf(adapter, done.id)) === null;
      }, { timeoutMs: 10_000 });
      expect((await adapter.getBatches({ ids: [open.id, running.id] })).map((batch) => batch?.state)).toEqual(["open", "running"]);
    } finally {
      await adapter.close();
    }
  });
});

describe("postgres batches: upgrade from 018", () => {
  it("jobs stored at 018 run and settle after 019 (no batch), and batches work on the upgraded schema", async () => {
    const adapter = freshAdapter({ migrate: false });
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      expect(await migrate(pool, adapter.schema, { upTo: "018" })).toContain("018_enqueue_resend");
      const old = payload({ id: uuidv7(), job: "OldJob" });
      await pool.query(
        `INSERT INTO "${adapter.schema}".jobs (id, job, queue, priority, run_at, state, body, executions, enqueued_at)
         VALUES ($1, 'OldJob', 'default', 0, now(), 'available', $2, 0, now())`,
        [old.id, JSON.stringify(old)],
      );
      expect((await adapter.migrate()).applied[0]).toBe("019_batches");
      const { id, callbackIds } = await openBatch(adapter, ["complete"]);
      await adapter.enqueue({ jobs: [payload({ id: uuidv7(), batch: { id } })] });
      await adapter.sealBatches({ ids: [id] });
      const reserved = await reserveAll(adapter);
      expect(reserved.map((r) => r.providerJobId)).toContain(old.id);
      await succeed(adapter, reserved);
      expect(await adapter.getStatus({ ids: [old.id] })).toEqual([expect.objectContaining({ state: "succeeded" })]);
      expect(await batchOf(adapter, id)).toMatchObject({ state: "finished", succeeded: 1, enqueuedCallbacks: callbackIds });
    } finally {
      await pool.end();
      await adapter.close();
    }
  });
});
