// PostgreSQL retention (retention.sql, upkeep.ts): which finished jobs go, that a backlog is
// cleared in bounded steps, that a batch kept by one running job does not stop the steps,
// and that a step runs beside the reserve, never holding it up.
import { describe, expect, it } from "vitest";
import pg from "pg";

import { configure, Job } from "@errand/core";
import { PostgresAdapter } from "@errand/adapter-postgres";
import { waitFor } from "@errand/core/testing";

import { postgresUrl } from "./support/postgres.js";
import { freshPostgresAdapters } from "./support/postgres-adapters.js";

const url = postgresUrl();
const freshAdapter = freshPostgresAdapters();

class EchoJob extends Job<[n: number]> {
  perform(n: number) {
    return n;
  }
}

/**
 * Inserts `n` jobs finished a day ago in closed batches of `perBatch` (as reserves leave
 * them), tokens from `firstToken` on; `running` of the first batch's jobs are still running.
 */
async function backlog(adapter: PostgresAdapter, n: number, firstToken: number, perBatch = 1000, running = 0): Promise<void> {
  const table = `"${adapter.schema}".jobs`;
  await adapter.pool.query(
    `INSERT INTO ${table} (id, job, queue, priority, run_at, state, body, executions, enqueued_at, lease_token, finished_at, result, lease_until, started_at)
     SELECT gen_random_uuid(), 'EchoJob', 'default', 0, now() - interval '1 day', CASE WHEN i < $4 THEN 'running' ELSE 'succeeded' END, '{}', 1,
            now() - interval '1 day', $2::bigint + i / $3, CASE WHEN i < $4 THEN NULL ELSE now() - interval '1 day' END,
            CASE WHEN i < $4 THEN NULL ELSE '1' END, CASE WHEN i < $4 THEN now() + interval '1 hour' END, now() - interval '1 day'
     FROM generate_series(0, $1::int - 1) AS i`,
    [n, firstToken, perBatch, running],
  );
  await adapter.pool.query(
    `INSERT INTO "${adapter.schema}".batches (token, worker_id, reserved_at, lease_until, jobs, ids, open)
     SELECT lease_token, 'w', now() - interval '1 day', max(coalesce(lease_until, now() - interval '1 day')), count(*), array_agg(id), bool_or(state = 'running')
     FROM ${table} WHERE lease_token >= $1 GROUP BY lease_token`,
    [firstToken],
  );
}

const countIn = async (adapter: PostgresAdapter, where: string) =>
  Number((await adapter.pool.query(`SELECT count(*) AS n FROM "${adapter.schema}".jobs WHERE ${where}`)).rows[0].n);

describe("postgres retention", () => {
  it("deletes finished jobs past their age and those of batches beyond the count, and keeps dead ones", async () => {
    // Retention runs at the first reserve, then not again for an hour: none while draining.
    const adapter = freshAdapter({ retentionMs: 60_000, maxFinished: 3, retentionCheckMs: 3_600_000 });
    const runtime = configure({ adapter, worker: { embedded: false } });
    const checker = new PostgresAdapter({ url, schema: adapter.schema, retentionMs: 60_000, maxFinished: 3, retentionCheckMs: 0 });
    try {
      await Promise.all(Array.from({ length: 6 }, (_, i) => EchoJob.performLater(i)));
      // Six reserve calls of one job each: six batches, oldest first (migration 010).
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const [reservation] = await adapter.reserve({ queues: ["default"], max: 1, leaseMs: 60_000, waitMs: 0, workerId: "retention" });
        ids.push(reservation!.providerJobId);
        await adapter.settle({ settlements: [{ reservation: reservation!, outcome: "succeeded", result: "1" }] });
      }
      const table = `"${adapter.schema}".jobs`;
      // Age the newest finished job past retention (and its batch: a job finishes after its
      // reserve, and retention only looks at batches reserved before the cutoff), and make
      // the oldest dead: it must survive.
      await adapter.pool.query(`UPDATE ${table} SET finished_at = now() - interval '2 minutes' WHERE id = $1`, [ids[5]]);
      await adapter.pool.query(
        `UPDATE "${adapter.schema}".batches SET reserved_at = now() - interval '3 minutes' WHERE token = (SELECT lease_token FROM ${table} WHERE id = $1)`,
        [ids[5]],
      );
      await adapter.pool.query(`UPDATE ${table} SET state = 'dead', finished_at = now() - interval '1 day', dead_at = now() - interval '1 day' WHERE id = $1`, [ids[0]]);
      expect(await countIn(adapter, "state = 'succeeded'")).toBe(5);
      await checker.reserve({ queues: ["default"], max: 1, leaseMs: 1000, waitMs: 0, workerId: "retention-check" });
      // The step runs beside the reserve: closing the checker waits for it.
      await checker.close();
      // maxFinished 3 keeps the newest three batches (ids 3–5), of which 5 is past its age;
      // batches 1 and 2 are beyond the count; the dead job stays.
      const { rows } = await adapter.pool.query<{ id: string; state: string }>(`SELECT id, state FROM ${table} ORDER BY state, id`);
      expect(rows).toEqual([{ id: ids[0], state: "dead" }, ...[ids[3], ids[4]].sort().map((id) => ({ id, state: "succeeded" }))]);
      expect(await adapter.listDead({})).toMatchObject([{ id: ids[0] }]);
    } finally {
      await checker.close();
      await runtime.close();
    }
  });

  it("clears a backlog larger than one step at the following reserves, without waiting retentionCheckMs", async () => {
    const adapter = freshAdapter({ retentionMs: 60_000, retentionCheckMs: 3_600_000 });
    const reserve = () => adapter.reserve({ queues: ["default"], max: 1, leaseMs: 1000, waitMs: 0, workerId: "retention" });
    const finished = () => countIn(adapter, "state = 'succeeded'");
    try {
      await adapter.migrate();
      await backlog(adapter, 5000, 1_000_000);
      // Steps of 2,000 (upkeep.ts): a full step is followed by another at a reserve soon
      // after (four times the step's duration), not an hour later; the third comes back
      // short. Steps run beside the reserves, so a poll may miss a count between two.
      const seen: number[] = [];
      await waitFor(async () => {
        await reserve();
        const n = await finished();
        if (seen.at(-1) !== n) seen.push(n);
        return n === 0;
      }, { timeoutMs: 20_000, intervalMs: 10, message: "the backlog cleared by reserves" });
      expect(seen.every((n) => [5000, 3000, 1000, 0].includes(n))).toBe(true);
      expect(seen).toEqual([...seen].sort((a, b) => b - a));
      // Then retention waits for retentionCheckMs again (an hour): a new backlog stays.
      await backlog(adapter, 10, 2_000_000);
      await reserve();
      expect(await finished()).toBe(10);
    } finally {
      await adapter.close();
    }
  });

  it("looks past a batch kept by one running job: its finished jobs go, its count drops, later batches are reached", async () => {
    const adapter = freshAdapter({ retentionMs: 60_000, retentionCheckMs: 0 });
    const reserve = () => adapter.reserve({ queues: ["default"], max: 1, leaseMs: 1000, waitMs: 0, workerId: "retention" });
    try {
      await adapter.migrate();
      // Ten batches of 1,020 (a drain at full prefetch); the first still runs one job.
      await backlog(adapter, 10_200, 3_000_000, 1020, 1);
      // A batch goes at the step after the one that deleted its last jobs.
      const batches = async () => Number((await adapter.pool.query(`SELECT count(*) AS n FROM "${adapter.schema}".batches`)).rows[0].n);
      await waitFor(async () => {
        await reserve();
        return (await countIn(adapter, "state = 'succeeded'")) === 0 && (await batches()) === 1;
      }, { timeoutMs: 20_000, intervalMs: 10, message: "every finished job and emptied batch deleted" });
      await adapter.close();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        const { rows } = await admin.query(`SELECT token::int, jobs FROM "${adapter.schema}".batches ORDER BY token`);
        // The running job's batch stays (lease expiry may still need it), counting one job.
        expect(rows).toEqual([{ token: 3_000_000, jobs: 1 }]);
        expect((await admin.query(`SELECT state FROM "${adapter.schema}".jobs`)).rows).toEqual([{ state: "running" }]);
      } finally {
        await admin.end();
      }
    } finally {
      await adapter.close();
    }
  });

  it("a step waiting on a lock does not hold up the reserve, and its adapter's close waits for it", async () => {
    const adapter = freshAdapter({ retentionCheckMs: 0 });
    const runtime = configure({ adapter, worker: { embedded: false } });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await adapter.migrate();
      await EchoJob.performLater(1);
      // Flow control's retention (unique locks, rate windows) runs in every step; a plain
      // reserve never touches unique_locks.
      await admin.query(`BEGIN; LOCK TABLE "${adapter.schema}".unique_locks IN ACCESS EXCLUSIVE MODE`);
      const reserved = await adapter.reserve({ queues: ["default"], max: 1, leaseMs: 60_000, waitMs: 0, workerId: "beside" });
      expect(reserved).toHaveLength(1);
      const blocked = async () =>
        (await admin.query(`SELECT 1 FROM pg_locks WHERE NOT granted AND relation = '"${adapter.schema}".unique_locks'::regclass`)).rowCount === 1;
      await waitFor(blocked, { message: "the retention step waiting on the lock" });
      let closed = false;
      const closing = adapter.close().then(() => (closed = true));
      // Still waiting: close has not returned while the step holds a connection.
      expect(await blocked()).toBe(true);
      expect(closed).toBe(false);
      await admin.query("COMMIT");
      await closing;
      expect(closed).toBe(true);
    } finally {
      await admin.query("ROLLBACK").catch(() => undefined);
      await admin.end();
      await runtime.close();
    }
  });
});
