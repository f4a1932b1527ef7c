// Upgrading a PostgreSQL schema from migration 013 to 014 (the operator's contract, issue
// 15). The schema is built with `migrate(pool, schema, { upTo: "013" })` and filled by plain
// SQL in 013's table shapes — jobs in every state, a parked one and a rate-deferred one among
// them, running and finished ones in their batches — never by the adapter, whose 014 is under
// test. After the migration every job must be counted (014 counts the rows already stored),
// listed in its state and controllable: cancelled, run now, aborted.
import { afterAll, describe, expect, it } from "vitest";
import pg from "pg";

import { migrate, PostgresAdapter } from "@errand/adapter-postgres";
import type { JobState } from "@errand/core/adapter";

import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";

const url = postgresUrl();
const schemas: string[] = [];
afterAll(() => dropSchemas(url, schemas));

/** One job per state as 013 stores it: [name, queue, state, run_at offset (s), lease_token, extra columns]. */
const ROWS = [
  ["queued", "up-a", "available", -60, null, {}],
  ["scheduled", "up-a", "available", 3600, -2, {}],
  ["retrying", "up-b", "available", 3600, -2, { error: { name: "Error", message: "it broke" } }],
  ["deferred", "up-b", "available", 3600, -2, { deferred: true }],
  ["parked", "up-b", "parked", -60, 0, { parked_seq: 1, concurrency_key: "up-key", flow: { concurrency: { key: "up-key", limit: 1 } } }],
  ["running", "up-a", "running", -60, 5, { started_at: "now", lease_until: "later", worker_id: "w" }],
  ["succeeded", "up-a", "succeeded", -120, 7, { started_at: "now", finished_at: "now", result: "1" }],
  ["failed", "up-b", "failed", -120, 7, { started_at: "now", finished_at: "now", error: { name: "Error", message: "discarded" } }],
  ["dead", "up-b", "dead", -120, 7, { started_at: "now", finished_at: "now", dead_at: "now", error: { name: "Error", message: "died" } }],
] as const;

const idOf = (index: number) => `0190b000-0000-7000-8000-${String(index + 1).padStart(12, "0")}`;

/** The 013 schema with one job per row of ROWS, and the batches of the running and finished ones. */
async function build013(pool: pg.Pool, schema: string): Promise<void> {
  expect(await migrate(pool, schema, { upTo: "013" })).toContain("013_vacuum_speed");
  for (const [index, [name, queue, state, offset, token, extra]] of ROWS.entries()) {
    const id = idOf(index);
    const runAt = new Date(Date.now() + offset * 1000).toISOString();
    const body = JSON.stringify({ v: 1, job: "UpgradeJob", id, queue, priority: 0, args: { json: [name] }, executions: 0, enqueuedAt: new Date(Date.now() - 300_000).toISOString(), runAt });
    const e = extra as Record<string, unknown>;
    const at = (key: string) => (e[key] === "now" ? new Date(Date.now() - 30_000 + index) : e[key] === "later" ? new Date(Date.now() + 3_600_000) : null);
    await pool.query(
      `INSERT INTO "${schema}".jobs (id, job, queue, priority, run_at, enqueued_at, deferred, parked_seq, concurrency_key, flow, body, dead_at, error,
                                     lease_token, worker_id, executions, started_at, lease_until, state, result, finished_at)
       VALUES ($1, 'UpgradeJob', $2, 0, $3, now() - interval '5 minutes', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
      [id, queue, runAt, e.deferred === true, e.parked_seq ?? null, e.concurrency_key ?? null, e.flow ? JSON.stringify(e.flow) : null, body, at("dead_at"),
       e.error ? JSON.stringify(e.error) : null, token, e.worker_id ?? null, state === "available" || state === "parked" ? 0 : 1, at("started_at"), at("lease_until"),
       state, e.result ?? null, at("finished_at")],
    );
  }
  await pool.query(
    `INSERT INTO "${schema}".batches (token, worker_id, lease_until, jobs, ids, open) VALUES
       (5, 'w', now() + interval '1 hour', 1, ARRAY[$1::uuid], true), (7, 'w', now() - interval '1 minute', 3, ARRAY[$2::uuid, $3::uuid, $4::uuid], false)`,
    [idOf(5), idOf(6), idOf(7), idOf(8)],
  );
  await pool.query(`SELECT setval('"${schema}".lease_tokens', 10)`);
}

describe("postgres upgrade from the 013 schema to 014 (the operator's contract)", () => {
  it("jobs stored before 014 are counted, listed in their states and controllable after it", async () => {
    const schema = schemaName("errand_up14");
    schemas.push(schema);
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const adapter = new PostgresAdapter({ url, schema, poolSize: 4 });
    try {
      await build013(pool, schema);
      expect((await adapter.migrate()).applied[0]).toBe("014_control");
      expect(await adapter.listQueues({})).toEqual([
        { name: "up-a", queued: 1, scheduled: 1, running: 1, retrying: 0, dead: 0, succeeded: 1, failed: 0, latencyMs: expect.any(Number), paused: false },
        { name: "up-b", queued: 2, scheduled: 0, running: 0, retrying: 1, dead: 1, succeeded: 0, failed: 1, latencyMs: 0, paused: false },
      ]);
      const listed = async (state: JobState) => (await adapter.listJobs({ state, limit: 10 })).jobs.map((job) => job.id);
      const id = (name: string) => idOf(ROWS.findIndex((row) => row[0] === name));
      expect(await listed("queued")).toEqual([id("queued"), id("parked"), id("deferred")]);
      expect(await listed("scheduled")).toEqual([id("scheduled")]);
      expect(await listed("retrying")).toEqual([id("retrying")]);
      expect(await listed("running")).toEqual([id("running")]);
      expect(await listed("succeeded")).toEqual([id("succeeded")]);
      expect(await listed("failed")).toEqual([id("failed")]);
      expect(await listed("dead")).toEqual([id("dead")]);
      const [queued] = (await adapter.listJobs({ ids: [id("queued")] })).jobs;
      expect(JSON.parse(queued!.body!)).toMatchObject({ id: id("queued"), args: { json: ["queued"] } });

      expect(await adapter.changeJobs({ action: "cancel", ids: [id("queued"), id("parked"), id("deferred"), id("running")] })).toEqual([id("queued"), id("parked"), id("deferred")]);
      expect(await adapter.changeJobs({ action: "runNow", ids: [id("scheduled"), id("retrying")] })).toEqual([id("scheduled"), id("retrying")]);
      expect(await adapter.changeJobs({ action: "abort", ids: [id("running")] })).toEqual([id("running")]);
      const beat = await adapter.heartbeat({
        worker: { id: "w", host: "h", pid: 1, adapter: "postgres", queues: "*", concurrency: 1, startedAt: new Date(), running: [{ id: id("running"), job: "UpgradeJob", queue: "up-a", startedAt: new Date() }] },
        at: new Date(),
        ttlMs: 5000,
        finished: [],
      });
      expect(beat).toEqual({ paused: [], abort: [id("running")], interrupt: [] });
      // Cancelled in one statement: one finish time, then by id, descending; the job that failed before them after.
      expect(await listed("failed")).toEqual([id("parked"), id("deferred"), id("queued"), id("failed")]);
      expect(await adapter.listQueues({})).toEqual([
        { name: "up-a", queued: 1, scheduled: 0, running: 1, retrying: 0, dead: 0, succeeded: 1, failed: 1, latencyMs: expect.any(Number), paused: false },
        { name: "up-b", queued: 1, scheduled: 0, running: 0, retrying: 0, dead: 1, succeeded: 0, failed: 3, latencyMs: expect.any(Number), paused: false },
      ]);
      // What was run now is handed out; nothing cancelled is.
      const taken = await adapter.reserve({ queues: ["up-a", "up-b"], max: 10, leaseMs: 60_000, waitMs: 0, workerId: "w2" });
      expect(taken.map((r) => r.providerJobId).sort()).toEqual([id("scheduled"), id("retrying")].sort());
    } finally {
      await adapter.close();
      await pool.end();
    }
  });
});
