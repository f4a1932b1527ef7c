// PostgreSQL flow control internals (migration 006) that only the rows can show: parked
// jobs leave the index reserve scans, unique keys serialize across connections and inside a
// caller's transaction, lock rows are cleaned, limits hold across adapters counted from the
// jobs themselves, no job is stranded parked, and 006 applies over a 005 schema with jobs.
// Portable behaviour lives in the conformance areas flow-unique, flow-limits, flow-recurring.
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { afterAll, afterEach, describe, expect, it } from "vitest";
import pg from "pg";

import { PostgresAdapter } from "@errand/adapter-postgres";
import type { JobPayload, Reservation } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { payload } from "./conformance/harness.js";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";

const url = postgresUrl();
const schemas: string[] = [];
const open: PostgresAdapter[] = [];
// Each case's adapters close after it: their pools held open to the end of the file added
// up (up to 70 connections) and, beside other files, ran PostgreSQL out of its 100.
afterEach(async () => {
  await Promise.all(open.splice(0).map((adapter) => adapter.close()));
});
afterAll(() => dropSchemas(url, schemas));

function adapterOn(schema: string, options: Partial<ConstructorParameters<typeof PostgresAdapter>[0]> = {}) {
  const adapter = new PostgresAdapter({ url, schema, poolSize: 4, leaseCheckMs: 50, ...options });
  open.push(adapter);
  return adapter;
}

function fresh(options: Partial<ConstructorParameters<typeof PostgresAdapter>[0]> = {}) {
  const schema = schemaName("errand_flow");
  schemas.push(schema);
  return adapterOn(schema, options);
}

const reserve = (adapter: PostgresAdapter, max = 10, leaseMs = 30_000) =>
  adapter.reserve({ queues: ["default"], max, leaseMs, waitMs: 0, workerId: "flow-internals" });
const idOf = (r: Reservation) => (JSON.parse(r.body) as JobPayload).id;
const limited = (key: string, limit: number) => payload({ flow: { concurrency: { key, limit } } });

describe("postgres flow control internals", () => {
  it("parked jobs leave the ready index: reserve's index scan reads none of them", async () => {
    const adapter = fresh();
    const jobs = Array.from({ length: 201 }, () => limited("acct", 1));
    await adapter.enqueue({ jobs });
    const [holder, ...rest] = await reserve(adapter, 1000);
    expect(rest).toEqual([]);
    expect(idOf(holder!)).toBe(jobs[0]!.id);
    const table = `"${adapter.schema}".jobs`;
    const { rows } = await adapter.pool.query<{ state: string; n: string; executions: number }>(
      `SELECT state, count(*) AS n, max(executions) AS executions FROM ${table} GROUP BY state ORDER BY state`,
    );
    expect(rows).toEqual([
      { state: "parked", n: "200", executions: 0 },
      { state: "running", n: "1", executions: 1 },
    ]);
    // The statement reserve_queues runs, with the plan it is given (migration 002).
    const client = await adapter.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off");
      const { rows: plan } = await client.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(
        `EXPLAIN (ANALYZE, FORMAT JSON) SELECT id FROM ${table} WHERE lease_token IS NULL AND queue = 'default' AND run_at <= now()
         ORDER BY priority, run_at, seq LIMIT 1000 FOR UPDATE SKIP LOCKED`,
      );
      await client.query("ROLLBACK");
      const scan = findNode(plan[0]!["QUERY PLAN"][0].Plan, (node) => node["Index Name"] !== undefined);
      // Either partial index of ready jobs (the planner picks); both hold rows without a lease
      // token only, and a parked job has the token 0 (migration 010).
      expect(scan?.["Index Name"]).toMatch(/^jobs_ready(_by_queue)?$/);
      expect(scan?.["Actual Rows"]).toBe(0);
    } finally {
      client.release();
    }
    const statuses = await adapter.getStatus({ ids: [jobs[1]!.id] });
    expect(statuses[0]).toMatchObject({ state: "queued", executions: 0 });
    // Settling the holder un-parks exactly one, the first parked.
    await adapter.settle({ settlements: [{ reservation: holder!, outcome: "succeeded" }] });
    const next = await reserve(adapter, 1000);
    expect(next.map(idOf)).toEqual([jobs[1]!.id]);
  });

  // 16 connections: enough for the enqueues of a round to overlap (with the enqueue lock
  // removed, 44 of 50 copies were stored), few enough to leave PostgreSQL's default 100
  // connections to the test files running beside this one (50 here once ran it out).
  it("10 rounds of 32 enqueues of one unique key over 4 adapters (16 connections) at once: one job per key", async () => {
    const first = fresh({ poolSize: 4 });
    await first.migrate();
    const adapters = [first, ...Array.from({ length: 3 }, () => adapterOn(first.schema, { poolSize: 4 }))];
    // Every connection open and migrated first, so the enqueues of a round overlap.
    await Promise.all(adapters.flatMap((adapter) => Array.from({ length: 4 }, () => adapter.getStatus({ ids: [payload().id] }))));
    await Promise.all(adapters.flatMap((adapter) => Array.from({ length: 4 }, () => adapter.pool.query("SELECT pg_sleep(0.02)"))));
    for (let round = 0; round < 10; round++) {
      const key = { key: `race-${round}`, while: "active" as const };
      const results = (await Promise.all(Array.from({ length: 32 }, (_, i) => adapters[i % 4]!.enqueue({ jobs: [payload({ flow: { unique: key } })] })))).flat();
      expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
      expect(new Set(results.map((result) => result.jobId)).size).toBe(1);
      const { rows } = await first.pool.query(`SELECT id FROM "${first.schema}".jobs WHERE body::json->'flow'->'unique'->>'key' = $1`, [key.key]);
      expect(rows.map((row) => row.id)).toEqual([results[0]!.jobId]);
    }
  });

  it("inside the caller's transaction the key waits for its commit: rolled back frees it, committed holds it", async () => {
    const adapter = fresh();
    await adapter.migrate();
    const key = { key: "in-tx", while: "queued" as const };
    const caller = new pg.Client({ connectionString: url });
    await caller.connect();
    try {
      for (const end of ["ROLLBACK", "COMMIT"] as const) {
        await caller.query("BEGIN");
        const inTx = payload({ flow: { unique: key } });
        const [held] = await adapter.enqueue({ jobs: [inTx], transaction: caller });
        expect(held!.duplicate).toBeFalsy();
        // Another connection's enqueue of the key waits for the caller's transaction to end.
        let settled = false;
        const outside = payload({ flow: { unique: key } });
        const other = adapter.enqueue({ jobs: [outside] }).finally(() => (settled = true));
        await waitFor(
          async () =>
            (
              await adapter.pool.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event = 'advisory' AND position($1 IN query) > 0`, [
                `"${adapter.schema}".enqueue_flow`,
              ])
            ).rowCount! > 0,
          { message: "the second enqueue to wait for the key's lock" },
        );
        expect(settled).toBe(false);
        await caller.query(end);
        const [result] = await other;
        if (end === "ROLLBACK") expect(result).toMatchObject({ jobId: outside.id });
        else expect(result).toMatchObject({ jobId: inTx.id, duplicate: true });
        await adapter.pool.query(`DELETE FROM "${adapter.schema}".jobs`);
      }
    } finally {
      await caller.end();
    }
  });

  it("retention removes unique locks that no longer block and rate starts past their window, and keeps the others", async () => {
    const adapter = fresh({ retentionCheckMs: 3_600_000 });
    await reserve(adapter); // its one retention pass, on an empty schema
    const done = payload({ flow: { unique: { key: "done", while: "queued" } } });
    const waiting = payload({ flow: { unique: { key: "waiting", while: "queued" } } });
    const expired = payload({ flow: { unique: { key: "expired", while: "active", forMs: 1 } }, enqueuedAt: new Date(Date.now() - 60_000).toISOString() });
    const rated = payload({ flow: { rateLimit: { key: "api", limit: 5, perMs: 1 } } });
    await adapter.enqueue({ jobs: [done, expired, rated] });
    const taken = await reserve(adapter);
    expect(taken.map(idOf).sort()).toEqual([done.id, expired.id, rated.id].sort());
    await adapter.settle({ settlements: taken.filter((r) => idOf(r) !== expired.id).map((reservation) => ({ reservation, outcome: "succeeded" as const })) });
    await adapter.enqueue({ jobs: [waiting] });
    const schema = `"${adapter.schema}"`;
    expect((await adapter.pool.query(`SELECT key FROM ${schema}.unique_locks ORDER BY key`)).rows.map((r) => r.key)).toEqual(["done", "expired", "waiting"]);
    expect((await adapter.pool.query(`SELECT 1 FROM ${schema}.rate_starts`)).rowCount).toBe(1);
    // Another process's upkeep: retention runs at its first reserve.
    const upkeeper = adapterOn(adapter.schema, { retentionCheckMs: 0 });
    await reserve(upkeeper, 1);
    // The step runs beside the reserve: closing its adapter waits for it (read before that,
    // the rows were those of before the step under load).
    await upkeeper.close();
    const { rows } = await adapter.pool.query(`SELECT key, job_id FROM ${schema}.unique_locks ORDER BY key`);
    // "done" succeeded (while queued: no longer blocks); "expired" ran past forMs; "waiting" was
    // queued when the pass ran, and holds its key.
    expect(rows).toEqual([{ key: "waiting", job_id: waiting.id }]);
    expect((await adapter.pool.query(`SELECT 1 FROM ${schema}.rate_starts`)).rowCount).toBe(0);
  });

  it("two adapters, four reservers, limit 3: never more than 3 of the key run, counted from the jobs' rows; every job ends", async () => {
    const first = fresh({ leaseCheckMs: 3_600_000 }); // no sweep after the first: un-parking must come from the settles
    await first.migrate();
    const adapters = [first, adapterOn(first.schema, { leaseCheckMs: 3_600_000 })];
    const jobs = Array.from({ length: 60 }, () => limited("shared", 3));
    await first.enqueue({ jobs });
    const table = `"${first.schema}".jobs`;
    let most = 0;
    let runs = 0;
    // Stranding shows as no progress: the jobs left stop going down while nothing runs. A
    // fixed 20 s for the whole drain failed on a busy machine (two suites side by side, load
    // 12) with jobs still moving; 10 s without a single job finishing is a stall.
    let lastLeft = Infinity;
    let progressAt = Date.now();
    const reserver = async (adapter: PostgresAdapter, n: number) => {
      for (;;) {
        if (Date.now() - progressAt > 10_000) throw new Error(`no job finished for 10 s, ${lastLeft} left: a job parked beside a free slot?`);
        const taken = await adapter.reserve({ queues: ["default"], max: 4, leaseMs: 30_000, waitMs: 200, workerId: `r${n}` });
        // While these run: how many jobs of the key hold a lease, read from the rows.
        const { rows } = await adapter.pool.query<{ live: string; left: string }>(
          `SELECT count(*) FILTER (WHERE state = 'running') AS live, count(*) FILTER (WHERE state <> 'succeeded') AS left FROM ${table}`,
        );
        most = Math.max(most, Number(rows[0]!.live));
        const left = Number(rows[0]!.left);
        if (left < lastLeft) [lastLeft, progressAt] = [left, Date.now()];
        if (left === 0) return;
        runs += taken.length;
        // Every third batch is handed back (released) instead of finished: released holders free slots too.
        const outcome = runs % 3 === 0 ? ("released" as const) : ("succeeded" as const);
        await adapter.settle({ settlements: taken.map((reservation) => ({ reservation, outcome })) });
      }
    };
    await Promise.all([0, 1, 2, 3].map((n) => reserver(adapters[n % 2]!, n)));
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(0);
    const { rows } = await first.pool.query<{ state: string; n: string }>(`SELECT state, count(*) AS n FROM ${table} GROUP BY state`);
    expect(rows).toEqual([{ state: "succeeded", n: "60" }]);
  });

  it("a reserve parking a job while the holder settles never strands it (200 races, sweep off)", async () => {
    // The race migration 006 closes with the key's advisory lock: the reserve counts the holder
    // as running and parks J while the settle of that holder looks for parked jobs before J's
    // park commits. Without the lock J would stay parked with the slot free (the sweep is off
    // here), and the reserve after the race would find nothing.
    const adapter = fresh({ leaseCheckMs: 3_600_000, poolSize: 6 });
    await reserve(adapter); // migrations and the one upkeep out of the way
    let stranded = 0;
    for (let round = 0; round < 200; round++) {
      const [holder, waiting] = [limited(`race-${round}`, 1), limited(`race-${round}`, 1)];
      await adapter.enqueue({ jobs: [holder] });
      const [lease] = await reserve(adapter);
      await adapter.enqueue({ jobs: [waiting] });
      const [raced] = await Promise.all([reserve(adapter), adapter.settle({ settlements: [{ reservation: lease!, outcome: "succeeded" }] })]);
      const taken = raced.length > 0 ? raced : await reserve(adapter);
      if (taken.map(idOf)[0] !== waiting.id) stranded++;
      else await adapter.settle({ settlements: [{ reservation: taken[0]!, outcome: "succeeded" }] });
    }
    expect(stranded).toBe(0);
  });

  it("the upkeep's sweep un-parks a job stranded by a holder that ended without freeing its slot", async () => {
    const adapter = fresh();
    const [holder, waiting] = [limited("stranded", 1), limited("stranded", 1)];
    await adapter.enqueue({ jobs: [holder, waiting] });
    expect((await reserve(adapter)).map(idOf)).toEqual([holder.id]);
    // As if the process died between the settle and its un-park: the holder ends, nothing un-parks.
    await adapter.pool.query(`UPDATE "${adapter.schema}".jobs SET state = 'succeeded', finished_at = now() WHERE id = $1`, [holder.id]);
    expect((await adapter.pool.query(`SELECT state FROM "${adapter.schema}".jobs WHERE id = $1`, [waiting.id])).rows[0].state).toBe("parked");
    const taken = await waitFor(
      async () => {
        const next = await reserve(adapter);
        return next.length > 0 ? next : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 60, message: "the sweep to un-park the stranded job" },
    );
    expect(taken.map(idOf)).toEqual([waiting.id]);
  });

  it("the status feed reports jobs a reserve leased, parked or deferred, and those a settle un-parked", async () => {
    const adapter = fresh();
    const reported = new Set<string>();
    const feed = await adapter.openStatusFeed!({ onChange: (ids) => ids.forEach((id) => reported.add(id)), onReconnect: () => undefined });
    try {
      const rateLimit = { key: "fed", limit: 1, perMs: 60_000 };
      const [holder, parked, leasedRated, deferred] = [limited("fed", 1), limited("fed", 1), payload({ flow: { rateLimit } }), payload({ flow: { rateLimit } })];
      await adapter.enqueue({ jobs: [holder, parked, leasedRated, deferred] });
      const all = [holder, parked, leasedRated, deferred].map((job) => job.id);
      await waitFor(() => all.every((id) => reported.has(id)), { message: "the enqueue reported" });
      reported.clear();
      const taken = await reserve(adapter);
      expect(taken.map(idOf).sort()).toEqual([holder.id, leasedRated.id].sort());
      await waitFor(() => all.every((id) => reported.has(id)), { message: "the leased, parked and deferred jobs reported" });
      expect(await adapter.getStatus({ ids: [parked.id, deferred.id] })).toMatchObject([{ state: "queued" }, { state: "queued" }]);
      reported.clear();
      await adapter.settle({ settlements: taken.map((reservation) => ({ reservation, outcome: "succeeded" as const })) });
      await waitFor(() => [holder.id, leasedRated.id, parked.id].every((id) => reported.has(id)), { message: "the settled and un-parked jobs reported" });
    } finally {
      await feed.close();
    }
  });

  it("migration 006 applies over a 005 schema holding jobs, which then run as before", async () => {
    const schema = schemaName("errand_flow");
    schemas.push(schema);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    let old: JobPayload;
    const dir = fileURLToPath(new URL("../packages/adapter-postgres/sql/migrations/", import.meta.url));
    try {
      await admin.query(`CREATE SCHEMA "${schema}"`);
      await admin.query(`CREATE TABLE "${schema}".migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      for (const file of readdirSync(dir).filter((name) => /^00[1-5]_/.test(name)).sort()) {
        await admin.query(readFileSync(dir + file, "utf8").replace(/\berrand\./g, `"${schema}".`));
        await admin.query(`INSERT INTO "${schema}".migrations (id, name) VALUES ($1, $2)`, [Number(file.slice(0, 3)), file.slice(0, -4)]);
      }
      old = payload();
      await admin.query(
        `INSERT INTO "${schema}".jobs (id, job, queue, run_at, state, body, enqueued_at) VALUES ($1, 'RecordJob', 'default', now(), 'available', $2, now())`,
        [old.id, JSON.stringify(old)],
      );
    } finally {
      await admin.end();
    }
    const adapter = adapterOn(schema);
    // 006 and every later migration (007 flow at reserve, 008 the status-store tables, 009 late renewals).
    expect((await adapter.migrate()).applied[0]).toBe("006_flow");
    const [status] = await adapter.getStatus({ ids: [old!.id] });
    expect(status).toMatchObject({ state: "queued", executions: 0 });
    const taken = await reserve(adapter);
    expect(taken).toHaveLength(1);
    await adapter.settle({ settlements: [{ reservation: taken[0]!, outcome: "succeeded" }] });
    // New flow jobs work in the migrated schema.
    const [a, b] = [limited("after", 1), limited("after", 1)];
    await adapter.enqueue({ jobs: [a, b] });
    expect((await reserve(adapter)).map(idOf)).toEqual([a.id]);
  });
});

interface PlanNode {
  "Index Name"?: string;
  "Actual Rows"?: number;
  Plans?: PlanNode[];
}

function findNode(node: PlanNode, match: (node: PlanNode) => boolean): PlanNode | undefined {
  if (match(node)) return node;
  for (const child of node.Plans ?? []) {
    const found = findNode(child, match);
    if (found) return found;
  }
  return undefined;
}
