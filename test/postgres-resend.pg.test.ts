// The PostgreSQL adapter's enqueue is idempotent by job id (migration 018, enqueue.sql,
// enqueue-uniform.sql): a payload sent again — as the outbox relay does with the batch it was
// killed before deleting — is stored once, announced once, and answered as stored, whichever
// statement stores it: a uniform bulk, a mixed one, scheduled jobs, unique jobs (the set-based
// path and the row-by-row one), limited jobs and recurring ticks. Rows are read directly: only
// they show that nothing was stored twice and no lock moved. Kill -9 of a relay sending to
// PostgreSQL: outbox-postgres.test.ts.
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";

import { PostgresAdapter } from "@errand/adapter-postgres";
import type { JobPayload } from "@errand/core/adapter";

import { payload } from "./conformance/harness.js";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";

const url = postgresUrl();
const schema = schemaName("errand_resend");
const adapter = new PostgresAdapter({ url, schema, poolSize: 2 });
const pool = new pg.Pool({ connectionString: url, max: 2 });
afterAll(async () => {
  await adapter.close();
  await pool.end();
  await dropSchemas(url, [schema]);
});

async function rowsOf(jobs: readonly JobPayload[]): Promise<{ id: string; n: number; state: string }[]> {
  const { rows } = await pool.query<{ id: string; n: number; state: string }>(
    `SELECT id::text, count(*)::int AS n, min(state) AS state FROM "${schema}".jobs WHERE id = ANY($1::uuid[]) GROUP BY id ORDER BY id`,
    [jobs.map((job) => job.id)],
  );
  return rows;
}

/** Enqueues `jobs`, then the same payloads again (whole, and the tail alone); each stored once, every answer the job's own id, none a duplicate. */
async function expectStoredOnce(jobs: JobPayload[]): Promise<void> {
  const first = await adapter.enqueue({ jobs });
  const again = await adapter.enqueue({ jobs });
  const tail = await adapter.enqueue({ jobs: jobs.slice(1) });
  const expected = jobs.map((job) => ({ jobId: job.id, duplicate: false }));
  const shape = (results: { jobId: string; duplicate?: boolean }[]) => results.map(({ jobId, duplicate }) => ({ jobId, duplicate: duplicate === true }));
  expect(shape(first)).toEqual(expected);
  expect(shape(again)).toEqual(expected);
  expect(shape(tail)).toEqual(expected.slice(1));
  const rows = await rowsOf(jobs);
  expect(rows.map((row) => row.n)).toEqual(jobs.map(() => 1));
}

describe("postgres: an enqueue sent again stores each job once", () => {
  it("a uniform bulk (enqueue-uniform.sql) and a mixed one (enqueue.sql)", async () => {
    await expectStoredOnce(Array.from({ length: 5 }, () => payload({ queue: "resend-uniform" })));
    await expectStoredOnce([payload({ queue: "resend-mixed", job: "A" }), payload({ queue: "resend-mixed", job: "B", priority: 3 }), payload({ queue: "resend-mixed-2" })]);
  });

  it("scheduled jobs (the BEFORE INSERT trigger's path) stay scheduled, once", async () => {
    const later = new Date(Date.now() + 3_600_000).toISOString();
    await expectStoredOnce(Array.from({ length: 3 }, () => payload({ queue: "resend-scheduled", runAt: later })));
  });

  it("a resent job that already ran is not stored again", async () => {
    const job = payload({ queue: "resend-done" });
    await adapter.enqueue({ jobs: [job] });
    const [reserved] = await adapter.reserve({ queues: ["resend-done"], max: 1, leaseMs: 30_000, waitMs: 0, workerId: "resend" });
    await adapter.settle({ settlements: [{ reservation: reserved!, outcome: "succeeded" }] });
    expect((await rowsOf([job]))[0]?.state).toBe("succeeded");
    await adapter.enqueue({ jobs: [job] });
    expect(await rowsOf([job])).toEqual([{ id: job.id, n: 1, state: "succeeded" }]);
  });

  it("unique jobs, set-based and row by row: once, their lock unmoved, not a duplicate of themselves", async () => {
    const setBased = ["u-1", "u-2", "u-3"].map((key) => payload({ queue: "resend-unique", flow: { unique: { key, while: "active" } } } as Partial<JobPayload>));
    await expectStoredOnce(setBased);
    // Two jobs of one key in a batch take the row-by-row path: the second is the first's duplicate, both times.
    const holder = payload({ queue: "resend-unique", flow: { unique: { key: "u-row", while: "active" } } } as Partial<JobPayload>);
    const twin = payload({ queue: "resend-unique", flow: { unique: { key: "u-row", while: "active" } } } as Partial<JobPayload>);
    for (let send = 0; send < 2; send++) {
      const results = await adapter.enqueue({ jobs: [holder, twin] });
      expect(results.map(({ jobId, duplicate }) => ({ jobId, duplicate: duplicate === true }))).toEqual([
        { jobId: holder.id, duplicate: false },
        { jobId: holder.id, duplicate: true },
      ]);
    }
    expect((await rowsOf([holder, twin])).map((row) => [row.id, row.n])).toEqual([[holder.id, 1]]);
    const { rows: locks } = await pool.query(`SELECT key, job_id::text FROM "${schema}".unique_locks WHERE key LIKE 'u-%' ORDER BY key`);
    expect(locks).toEqual([...setBased.map((job, index) => ({ key: `u-${index + 1}`, job_id: job.id })), { key: "u-row", job_id: holder.id }]);
  });

  it("limited jobs and a recurring tick", async () => {
    await expectStoredOnce(Array.from({ length: 3 }, () => payload({ queue: "resend-limited", flow: { concurrency: { key: "acct", limit: 1 } } } as Partial<JobPayload>)));
    const tick = payload({ queue: "resend-recurring", flow: { recurring: { task: "nightly", tick: new Date().toISOString() } } } as Partial<JobPayload>);
    await expectStoredOnce([tick]);
  });
});
