// Faults of the outbox relay with real processes (`errand relay`, `errand work`) on the
// fixture config test/fixtures/outbox: kill -9 of the relay mid-stream again and again, and
// Redis unreachable for a while (the relay talks to it through a TCP proxy the test stops
// and starts; the shared Redis is never touched). The counts: every job in Redis exactly
// once, in the order written, none lost.
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";

import { PostgresOutbox } from "@errand/adapter-postgres";
import { RedisAdapter } from "@errand/adapter-redis";
import type { OutboxJob } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { payload } from "./conformance/harness.js";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";
import { readyIds } from "./support/redis-jobs.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { RelayProcess } from "./support/relay-process.js";
import { TcpProxy } from "./support/tcp-proxy.js";

const url = postgresUrl();
const rUrl = redisUrl();
const pool = new pg.Pool({ connectionString: url, max: 2 });
const raw = new Redis(rUrl);
const schemas: string[] = [];
const prefixes: string[] = [];
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  RelayProcess.killAll();
  for (const close of closers.reverse()) await close().catch(() => undefined);
  raw.disconnect();
  await pool.end();
  await dropSchemas(url, schemas);
  await dropPrefixes(rUrl, prefixes);
});

/** A case: its schema, key prefix, the outbox the test writes through, and the relay processes' environment. */
function newCase(redis = rUrl) {
  const schema = schemaName();
  const prefix = redisPrefix();
  schemas.push(schema);
  prefixes.push(prefix);
  const outbox = new PostgresOutbox({ url, schema });
  const adapter = new RedisAdapter({ url: rUrl, prefix });
  closers.push(() => outbox.close(), () => adapter.close());
  const env = { OUTBOX_TARGET: "redis", OUTBOX_REDIS_URL: redis, OUTBOX_REDIS_PREFIX: prefix, OUTBOX_PG_URL: url, OUTBOX_SCHEMA: schema };
  return { outbox, keys: adapter.keys, env };
}

/** Writes `transactions` × `perTransaction` jobs on `queue`, each transaction committed; returns their ids in order. */
async function write(outbox: PostgresOutbox, queue: string, transactions: number, perTransaction: number): Promise<string[]> {
  const ids: string[] = [];
  const client = await pool.connect();
  try {
    for (let t = 0; t < transactions; t++) {
      const jobs: OutboxJob[] = Array.from({ length: perTransaction }, () => ({ adapter: undefined, payload: payload({ queue }) }));
      await client.query("BEGIN");
      await outbox.write({ dialect: "postgres", library: "pg", query: (text, values) => client.query(text, values as unknown[]) }, jobs);
      await client.query("COMMIT");
      ids.push(...jobs.map((job) => job.payload.id));
    }
  } finally {
    client.release();
  }
  return ids;
}

describe("outbox faults (redis target)", () => {
  it("kill -9 of the relay mid-stream, 6 times: every job in Redis exactly once, in order, none lost", async () => {
    const c = newCase();
    const env = { ...c.env, OUTBOX_BATCH: "100" };
    const written = await write(c.outbox, "k", 60, 50);
    const total = written.length;
    const stored = () => raw.llen(c.keys.readyList("k", 0));
    let sentNotDeleted = 0;
    for (let kill = 0; kill < 6; kill++) {
      const relay = new RelayProcess(["relay"], env);
      await relay.started();
      const before = await stored();
      await waitFor(async () => (await stored()) > before, { timeoutMs: 15_000, intervalMs: 1, message: `relay ${kill} moving jobs\n${relay.tail()}` });
      await relay.kill();
      const [inRedis, pending] = [await stored(), await c.outbox.pending()];
      // Nothing lost at any kill: each job is in Redis or still in the outbox (or both: sent,
      // not yet deleted — the next relay sends it again and Redis keeps one).
      expect(inRedis + pending, relay.tail()).toBeGreaterThanOrEqual(total);
      expect(inRedis, "the relay had finished before the kill: not mid-stream").toBeLessThan(total);
      sentNotDeleted += inRedis + pending - total;
    }
    const last = new RelayProcess(["relay"], env);
    await waitFor(async () => (await c.outbox.pending()) === 0, { timeoutMs: 30_000, message: `the last relay draining the outbox\n${last.tail()}` });
    expect(await last.stop(), last.tail()).toEqual({ code: 0, signal: null });
    const ids = await readyIds(raw, c.keys.queue("k"));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(written);
    console.log(`outbox kill -9: ${total} jobs, 6 kills, ${sentNotDeleted} sent-not-deleted at a kill (resent, stored once), ${ids.length} in Redis, lost ${total - ids.length}, doubled 0`);
    // Seven processes started one after the other: 1–2 s each on an idle machine, 7–8 s at load 27.
  }, 150_000);

  it("Redis unreachable for a while: `errand relay` reports each failed round (no password in them), loses and doubles nothing", async () => {
    const target = new URL(rUrl);
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    await proxy.start();
    closers.push(() => proxy.stop());
    const viaProxy = new URL(rUrl);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    const c = newCase(viaProxy.toString());
    // Trust auth takes any password: this one must never reach a log line.
    const pgUrl = new URL(url);
    pgUrl.password = "s3cret-pw";
    const relay = new RelayProcess(["relay"], { ...c.env, OUTBOX_PG_URL: pgUrl.toString(), OUTBOX_BATCH: "50" });
    await relay.started();
    const first = await write(c.outbox, "u", 4, 50);
    await waitFor(async () => (await c.outbox.pending()) === 0, { timeoutMs: 15_000, message: `the first jobs relayed\n${relay.tail()}` });
    await proxy.stop();
    const second = await write(c.outbox, "u", 10, 50);
    await waitFor(() => (relay.stderr.match(/relay error/g) ?? []).length >= 3, { timeoutMs: 30_000, message: `failed rounds reported\n${relay.tail()}` });
    expect(await c.outbox.pending()).toBe(500);
    await proxy.start();
    await waitFor(async () => (await c.outbox.pending()) === 0, { timeoutMs: 30_000, message: `the outbox drained after Redis came back\n${relay.tail()}` });
    expect(await relay.stop(), relay.tail()).toEqual({ code: 0, signal: null });
    expect(relay.stdout + relay.stderr).not.toContain("s3cret-pw");
    const ids = await readyIds(raw, c.keys.queue("u"));
    expect(ids).toEqual([...first, ...second]);
    console.log(`outbox Redis down: ${ids.length} jobs, ${(relay.stderr.match(/relay error/g) ?? []).length} failed rounds reported, lost 0, doubled 0`);
  }, 90_000);

  it("`errand work` runs the relay beside its worker, and not with --no-relay", async () => {
    const c = newCase();
    // The worker works another queue: the relayed jobs stay in Redis to be counted.
    const quiet = new RelayProcess(["work", "-q", "other", "--no-relay"], c.env);
    await quiet.started();
    expect(quiet.stdout).not.toMatch(/outbox relay/);
    const ids = await write(c.outbox, "w", 2, 10);
    const worker = new RelayProcess(["work", "-q", "other"], c.env);
    await worker.started();
    expect(worker.stdout).toMatch(/started: .*, outbox relay/);
    await waitFor(async () => (await readyIds(raw, c.keys.queue("w"))).length === 20, { timeoutMs: 15_000, message: `jobs relayed by errand work\n${worker.tail()}` });
    expect(await readyIds(raw, c.keys.queue("w"))).toEqual(ids);
    expect(await worker.stop(), worker.tail()).toEqual({ code: 0, signal: null });
    expect(await quiet.stop(), quiet.tail()).toEqual({ code: 0, signal: null });
  }, 90_000);
});
