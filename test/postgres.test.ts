// PostgreSQL-specific behaviour reached through the public API: transactional enqueue,
// coalesced enqueues, migrations, connection settings.
import { describe, expect, it } from "vitest";
import pg from "pg";

import { configure, Job, Runtime } from "@errand/core";
import { PostgresAdapter } from "@errand/adapter-postgres";

import { postgresUrl } from "./support/postgres.js";
import { freshPostgresAdapters } from "./support/postgres-adapters.js";

const url = postgresUrl();
const freshAdapter = freshPostgresAdapters();

class SignupJob extends Job<[email: string]> {
  perform(email: string) {
    return email;
  }
}

describe("transactional enqueue", () => {
  it("a job enqueued with the caller's client exists only if the transaction commits", async () => {
    const adapter = freshAdapter();
    const runtime = configure({ adapter, worker: { embedded: false } });
    await adapter.migrate();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query("BEGIN");
      const committed = await SignupJob.set({ transaction: client }).performLater("kept@example.com");
      // Not visible outside the transaction yet.
      expect(await SignupJob.status(committed.jobId)).toBeNull();
      await client.query("COMMIT");
      expect((await SignupJob.status(committed.jobId))?.state).toBe("queued");

      await client.query("BEGIN");
      const rolledBack = await SignupJob.set({ transaction: client }).performLater("gone@example.com");
      await client.query("ROLLBACK");
      expect(await SignupJob.status(rolledBack.jobId)).toBeNull();
      const queues = await (await runtime.adapterFor()).listQueues();
      expect(queues).toEqual([{ name: "default", queued: 1, scheduled: 0, running: 0, retrying: 0, dead: 0, succeeded: 0, failed: 0, latencyMs: expect.any(Number), paused: false }]);
    } finally {
      await client.end();
      await runtime.close();
    }
  });

  it("a transaction that is not a pg client is a clear error", async () => {
    const runtime = configure({ adapter: freshAdapter(), worker: { embedded: false } });
    try {
      await expect(SignupJob.set({ transaction: { not: "a client" } }).performLater("x")).rejects.toThrow(
        "postgres adapter: set({ transaction }) takes a pg client (Client or PoolClient) inside BEGIN",
      );
    } finally {
      await runtime.close();
    }
  });
});

describe("enqueue coalescing", () => {
  it("32 concurrent performLater calls cost at most two INSERT round trips", async () => {
    const runtime = configure({ adapter: freshAdapter(), worker: { embedded: false } });
    const calls: number[] = [];
    runtime.events.on("adapter:call", (event) => {
      if (event.operation === "enqueue") calls.push(event.count);
    });
    try {
      await (await runtime.adapterFor()).migrate();
      const results = await Promise.all(Array.from({ length: 32 }, (_, i) => SignupJob.performLater(`u${i}@example.com`)));
      expect(new Set(results.map((r) => r.jobId)).size).toBe(32);
      expect(calls.length).toBeLessThanOrEqual(2);
      expect(calls.reduce((a, b) => a + b, 0)).toBe(32);
    } finally {
      await runtime.close();
    }
  });
});

describe("migrations", () => {
  it("several processes migrating at once apply each migration exactly once", async () => {
    const schema = freshAdapter.schema();
    const adapters = Array.from({ length: 4 }, () => new PostgresAdapter({ url, schema, poolSize: 2 }));
    try {
      const results = await Promise.all(adapters.map((adapter) => adapter.migrate()));
      expect(results.flatMap((result) => result.applied)).toEqual([
        "001_jobs",
        "002_reserve_functions",
        "003_reserve_one_token",
        "004_statuses",
        "005_status_notify",
        "006_flow",
        "007_flow_reserve",
        "008_status_store_flow",
        "009_late_renewal",
        "010_storage",
        "011_autovacuum",
        "012_scheduled",
        "013_vacuum_speed",
        "014_control",
        "015_status_control",
        "016_outbox",
        "017_flow_wake_at_statement",
        "018_enqueue_resend",
        "019_batches",
        "020_status_store_batches",
        "021_interrupt",
      ]);
      const { rows } = await adapters[0]!.pool.query(`SELECT id, name FROM "${schema}".migrations`);
      expect(rows).toEqual([
        { id: 1, name: "001_jobs" },
        { id: 2, name: "002_reserve_functions" },
        { id: 3, name: "003_reserve_one_token" },
        { id: 4, name: "004_statuses" },
        { id: 5, name: "005_status_notify" },
        { id: 6, name: "006_flow" },
        { id: 7, name: "007_flow_reserve" },
        { id: 8, name: "008_status_store_flow" },
        { id: 9, name: "009_late_renewal" },
        { id: 10, name: "010_storage" },
        { id: 11, name: "011_autovacuum" },
        { id: 12, name: "012_scheduled" },
        { id: 13, name: "013_vacuum_speed" },
        { id: 14, name: "014_control" },
        { id: 15, name: "015_status_control" },
        { id: 16, name: "016_outbox" },
        { id: 17, name: "017_flow_wake_at_statement" },
        { id: 18, name: "018_enqueue_resend" },
        { id: 19, name: "019_batches" },
        { id: 20, name: "020_status_store_batches" },
        { id: 21, name: "021_interrupt" },
      ]);
      expect((await adapters[0]!.migrate()).applied).toEqual([]);
      // 010's fillfactor, 011's autovacuum threshold and 013's unthrottled autovacuum on the churning tables.
      const { rows: storage } = await adapters[0]!.pool.query<{ relname: string; reloptions: string[] }>(
        "SELECT c.relname, c.reloptions FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname IN ('jobs', 'batches') ORDER BY c.relname",
        [schema],
      );
      expect(storage).toEqual([
        { relname: "batches", reloptions: ["autovacuum_vacuum_scale_factor=0.05", "autovacuum_vacuum_cost_delay=0"] },
        { relname: "jobs", reloptions: ["fillfactor=50", "autovacuum_vacuum_scale_factor=0.05", "autovacuum_vacuum_cost_delay=0"] },
      ]);
    } finally {
      await Promise.all(adapters.map((adapter) => adapter.close()));
    }
  });

  it("with migrate: false nothing is created until `errand migrate` runs, and the error says so", async () => {
    const adapter = freshAdapter({ migrate: false });
    const runtime = configure({ adapter, worker: { embedded: false } });
    try {
      await expect(SignupJob.performLater("x")).rejects.toThrow(/relation ".*\.jobs" does not exist; run `errand migrate` to create Errand's tables/);
      await adapter.migrate();
      await expect(SignupJob.performLater("x")).resolves.toMatchObject({ enqueued: true });
    } finally {
      await runtime.close();
    }
  });

  it("refuses a schema name that is not a plain identifier", () => {
    expect(() => new PostgresAdapter({ url, schema: 'x"; DROP TABLE jobs; --' })).toThrow(/schema .* must be lower-case letters/);
  });
});

describe("connection settings", () => {
  it("ERRAND_URL=postgres://... selects the adapter; the app's own pool can be passed instead", async () => {
    const saved = process.env.ERRAND_URL;
    process.env.ERRAND_URL = url;
    try {
      const runtime = new Runtime({});
      expect((await runtime.adapterFor()).name).toBe("postgres");
      await runtime.close();
    } finally {
      if (saved === undefined) delete process.env.ERRAND_URL;
      else process.env.ERRAND_URL = saved;
    }
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const adapter = freshAdapter({ pool, url: undefined });
    const runtime = configure({ adapter, worker: { embedded: false } });
    const { jobId } = await SignupJob.performLater("pooled@example.com");
    expect((await SignupJob.status(jobId))?.state).toBe("queued");
    await runtime.close();
    // Errand does not end a pool it did not make.
    expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    await pool.end();
  });

  it("without url or pool the adapter says what it needs", () => {
    expect(() => new PostgresAdapter({})).toThrow("postgres adapter: give { url } (or ERRAND_URL=postgres://...) or your own { pool }");
  });

  it("an unreachable server is a ConnectionError", async () => {
    const runtime = configure({ adapter: new PostgresAdapter({ url: "postgres://postgres@127.0.0.1:1/none" }), worker: { embedded: false } });
    try {
      const error = await SignupJob.performLater("x").catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe("ERR_CONNECTION");
      expect((error as Error).message).toMatch(/^postgres adapter: enqueue failed: .*ECONNREFUSED/);
    } finally {
      await runtime.close();
    }
  });
});
