// The status stores a backend without job state (SQS) keeps statuses in: the in-memory
// reference, and the shared ones in Redis and PostgreSQL, through the status-store
// conformance suite (a fresh key prefix or schema per case), and the shared stores' operator
// side and batches through theirs. Then what only one store can
// show: the Redis key layout and expiries, bounded deletes of expired PostgreSQL rows, and a
// settle that waits on a row while a redelivery commits.
import pg from "pg";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";

import { PostgresStatusStore } from "@errand/adapter-postgres";
import { RedisStatusStore } from "@errand/adapter-redis";
import { LocalStatusStore, type JobPayload } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { statusStoreSuite } from "./conformance/status-store.js";
import { statusStoreControlSuite } from "./conformance/status-store-marks.js";
import { statusStoreBatchesSuite } from "./conformance/status-store-batches.js";
import { payload as basePayload } from "./conformance/status-store-harness.js";
import type { StatusTtls } from "./conformance/status-store-retention.js";
import { postgresUrl } from "./support/postgres.js";
import { SchemaPool } from "./support/postgres-schemas.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";

// Read lazily: without Redis or PostgreSQL, only that store's cases fail (with the reason).
const prefixes: string[] = [];
// Created on first use, as the URL is read lazily.
let schemas: SchemaPool | undefined;
afterAll(async () => {
  // Status keys start with their hash tag, `{prefix}:`, which is what to drop.
  if (prefixes.length > 0) await dropPrefixes(redisUrl(), prefixes.map((prefix) => `{${prefix}}`));
  await schemas?.drop();
});

function redisStore(options: StatusTtls & { client?: Redis } = {}): RedisStatusStore {
  const prefix = redisPrefix("errand-status-t");
  prefixes.push(prefix);
  return new RedisStatusStore({ url: redisUrl(), prefix, ...options });
}

/** A store on a migrated schema emptied for it (reused once its store closed: support/postgres-schemas.ts). */
async function postgresStore(options: StatusTtls & { pool?: pg.Pool } = {}): Promise<PostgresStatusStore> {
  schemas ??= new SchemaPool(postgresUrl(), "errand_status_t");
  const schema = await schemas.take();
  return schemas.hold(schema, new PostgresStatusStore({ url: postgresUrl(), schema, ...options }));
}

statusStoreSuite("local", async () => new LocalStatusStore(), { createWithTtl: async (ttls) => new LocalStatusStore(ttls) });
statusStoreSuite("redis", async () => redisStore(), { createWithTtl: async (ttls) => redisStore(ttls) });
statusStoreSuite("postgres", async () => postgresStore(), { createWithTtl: async (ttls) => postgresStore(ttls) });
// The operator's side (StatusStore.control), which the shared stores offer; LocalStatusStore
// keeps statuses in one process and has none (the SQS adapter then says why it lacks listJobs and control).
statusStoreControlSuite("redis", async () => redisStore(), { createWithTtl: async (ttls) => redisStore(ttls) });
statusStoreControlSuite("postgres", async () => postgresStore(), { createWithTtl: async (ttls) => postgresStore(ttls) });
// Batches (StatusStore.batches), which the shared stores offer for the SQS adapter.
statusStoreBatchesSuite("redis", async () => redisStore());
statusStoreBatchesSuite("postgres", async () => postgresStore());

/** The suite's payload, with priority 0 and no arguments. */
const payload = (overrides: Partial<JobPayload> = {}): JobPayload => basePayload({ priority: 0, args: { json: [] }, ...overrides });

const reservation = (id: string) => ({ providerJobId: id, body: "" });

describe("redis status store", () => {
  it("keeps one hash per job under the hash tag {prefix}; finished ones expire, live ones do not", async () => {
    const store = redisStore({ finishedTtlMs: 60_000 });
    const client = new Redis(redisUrl());
    try {
      const [done, live] = [payload(), payload()];
      await store.enqueued([done, live]);
      await store.started([{ id: done.id, lease: "l-done" }, { id: live.id, lease: "l-live" }]);
      await store.settled([{ id: done.id, lease: "l-done", settlement: { reservation: reservation(done.id), outcome: "succeeded", result: "ok" } }]);
      const tag = `{${store.prefix}}`;
      // Scan to the end: one SCAN call covers only part of a Redis other test files fill too.
      const keys: string[] = [];
      let cursor = "0";
      do {
        const [next, found] = await client.scan(cursor, "MATCH", `${tag}:*`, "COUNT", 1000);
        keys.push(...found);
        cursor = next;
      } while (cursor !== "0");
      // Besides the hashes, the operator's listing index: one zset per state, queue and class
      // (status-control.ts), and the set of (queue, class) pairs.
      expect(keys.sort()).toEqual(
        [`${tag}:s:${done.id}`, `${tag}:s:${live.id}`, `${tag}:i:pairs`, `${tag}:i:running:reports:ReportJob`, `${tag}:i:succeeded:reports:ReportJob`].sort(),
      );
      expect(await client.zrange(`${tag}:i:running:reports:ReportJob`, 0, -1)).toEqual([live.id]);
      expect(await client.hgetall(`${tag}:s:${live.id}`)).toMatchObject({ job: "ReportJob", queue: "reports", state: "running", exe: "1", tok: "l-live" });
      expect(await client.hgetall(`${tag}:s:${done.id}`)).toMatchObject({ state: "succeeded", res: "ok" });
      expect(await client.hexists(`${tag}:s:${done.id}`, "tok")).toBe(0);
      const ttl = await client.pttl(`${tag}:s:${done.id}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
      expect(await client.pttl(`${tag}:s:${live.id}`)).toBe(-1);
    } finally {
      client.disconnect();
      await store.close();
    }
  });

  it("a batch over one script call's 1,000 keys is split and answered in order", async () => {
    const store = redisStore();
    try {
      const jobs = Array.from({ length: 2500 }, () => payload());
      const first = jobs.map((p, i) => ({ id: p.id, lease: `first-${i}` }));
      await store.enqueued(jobs);
      await store.started(first);
      // Redeliver jobs in each of the three script calls, so positions in every chunk count.
      const again = [3, 999, 1000, 1001, 1999, 2000, 2499].map((i) => jobs[i]!.id);
      await store.started(again.map((id) => ({ id, lease: `again-${id}` })));
      expect(await store.stale(first)).toEqual(new Set(again));
      await store.settled(jobs.map((p, i) => ({ id: p.id, lease: first[i]!.lease, settlement: { reservation: reservation(p.id), outcome: "succeeded" } })));
      const records = await store.get(jobs.map((p) => p.id));
      const running = records.flatMap((record) => (record?.state === "running" ? [record.id] : []));
      expect(running.sort()).toEqual([...again].sort());
      expect(records.filter((record) => record?.state === "succeeded")).toHaveLength(2500 - again.length);
    } finally {
      await store.close();
    }
  });

  it("uses the app's client and leaves it open on close", async () => {
    const client = new Redis(redisUrl());
    try {
      const store = redisStore({ client });
      const p = payload();
      await store.enqueued([p]);
      expect((await store.get([p.id]))[0]).toMatchObject({ state: "queued" });
      await store.close();
      await expect(store.get([p.id])).rejects.toThrow(/closed/);
      expect(await client.ping()).toBe("PONG");
    } finally {
      client.disconnect();
    }
  });

  it("refuses a prefix that would break its hash tag", () => {
    expect(() => new RedisStatusStore({ url: redisUrl(), prefix: "a}b" })).toThrow(/prefix .* without spaces or braces/);
    expect(() => new RedisStatusStore({})).toThrow(/give \{ url \}/);
  });
});

describe("postgres status store", () => {
  it("deletes expired rows in bounded steps as later settles come", async () => {
    const store = await postgresStore({ finishedTtlMs: 1 });
    try {
      const finished = Array.from({ length: 150 }, () => payload());
      const [x, y] = [payload(), payload()];
      const all = [...finished, x, y];
      await store.enqueued(all);
      await store.started(all.map((p) => ({ id: p.id, lease: `l-${p.id}` })));
      await store.settled(finished.map((p) => ({ id: p.id, lease: `l-${p.id}`, settlement: { reservation: reservation(p.id), outcome: "succeeded" } })));
      await waitFor(async () => (await store.get(finished.map((p) => p.id))).every((record) => record === null), { message: "statuses expired" });
      const expiredRows = async () =>
        Number((await store.pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${store.schema}".statuses WHERE expires_at <= now()`)).rows[0]!.n);
      expect(await expiredRows()).toBe(150);
      // A settle of one job deletes at most 2 · 1 + 100 expired rows; a handback finishes nothing new.
      await store.settled([{ id: x.id, lease: `l-${x.id}`, settlement: { reservation: reservation(x.id), outcome: "released" } }]);
      expect(await expiredRows()).toBe(48);
      await store.settled([{ id: y.id, lease: `l-${y.id}`, settlement: { reservation: reservation(y.id), outcome: "released" } }]);
      expect(await expiredRows()).toBe(0);
      expect((await store.get([x.id, y.id])).map((record) => record?.state)).toEqual(["queued", "queued"]);
    } finally {
      await store.close();
    }
  });

  it("a settle waiting on a row while a redelivery commits sees the new lease and changes nothing", async () => {
    const store = await postgresStore();
    const other = new pg.Client({ connectionString: postgresUrl() });
    await other.connect();
    try {
      const p = payload();
      await store.enqueued([p]);
      await store.started([{ id: p.id, lease: "l1" }]);
      // Another process redelivers the job: its transaction holds the row, not yet committed.
      const { rows: [holder] } = await other.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      await other.query("BEGIN");
      await other.query(`UPDATE "${store.schema}".statuses SET lease = 'l2', executions = executions + 1 WHERE id = $1`, [p.id]);
      const settling = store.settled([{ id: p.id, lease: "l1", settlement: { reservation: reservation(p.id), outcome: "succeeded", result: "stale" } }]);
      // Commit only once the settle is blocked by that transaction, so it must re-check the lease.
      await waitFor(
        async () => {
          const { rows } = await other.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", [holder!.pid]);
          return Number(rows[0]!.n) > 0;
        },
        { message: "settle blocked by the redelivery's transaction" },
      );
      await other.query("COMMIT");
      await settling;
      expect((await store.get([p.id]))[0]).toMatchObject({ state: "running", executions: 2 });
      expect(await store.stale([{ id: p.id, lease: "l1" }])).toEqual(new Set([p.id]));
    } finally {
      await other.end();
      await store.close();
    }
  });

  it("uses the app's pool and leaves it open on close; the table comes with the migrations", async () => {
    const pool = new pg.Pool({ connectionString: postgresUrl(), max: 2 });
    try {
      const store = await postgresStore({ pool });
      const p = payload();
      await store.enqueued([p]);
      const { rows } = await pool.query<{ name: string }>(`SELECT name FROM "${store.schema}".migrations ORDER BY id`);
      expect(rows.map((row) => row.name)).toContain("004_statuses");
      await store.close();
      await expect(store.get([p.id])).rejects.toThrow(/closed/);
      expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });
});
