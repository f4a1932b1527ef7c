// Faults of the outbox relay with real processes (`errand relay`, `errand work`) on the
// fixture config test/fixtures/outbox: kill -9 of the relay mid-stream again and again, and
// Redis unreachable for a while (the relay talks to it through a TCP proxy the test stops
// and starts; the shared Redis is never touched). The counts: every job in Redis exactly
// once, in the order written, none lost.
import { describe, expect, it } from "vitest";

import { PostgresOutbox } from "@errand/adapter-postgres";
import { RedisAdapter } from "@errand/adapter-redis";
import { waitFor } from "@errand/core/testing";

import { jobsOn, outboxFile, redisBehindProxy, writeInTransactions } from "./support/outbox.js";
import { readyIds } from "./support/redis-jobs.js";
import { killRelaysMidStream } from "./support/relay-kills.js";
import { RelayProcess } from "./support/relay-process.js";

const file = outboxFile({ poolMax: 2, beforeClose: () => RelayProcess.killAll() });
const { url, rUrl, pool, raw } = file;

/** A case: its schema, key prefix, the outbox the test writes through, and the relay processes' environment. */
function newCase(redis = rUrl) {
  const schema = file.schema();
  const prefix = file.prefix();
  const outbox = new PostgresOutbox({ url, schema });
  const adapter = new RedisAdapter({ url: rUrl, prefix });
  file.closeLater(() => outbox.close(), () => adapter.close());
  const env = { OUTBOX_TARGET: "redis", OUTBOX_REDIS_URL: redis, OUTBOX_REDIS_PREFIX: prefix, OUTBOX_PG_URL: url, OUTBOX_SCHEMA: schema };
  return { outbox, keys: adapter.keys, env };
}

/** Writes `transactions` × `perTransaction` jobs on `queue`, each transaction committed; returns their ids in order. */
async function write(outbox: PostgresOutbox, queue: string, transactions: number, perTransaction: number): Promise<string[]> {
  const batches = Array.from({ length: transactions }, () => jobsOn(queue, perTransaction));
  await writeInTransactions(pool, outbox, batches);
  return batches.flat().map((job) => job.payload.id);
}

describe("outbox faults (redis target)", () => {
  it("kill -9 of the relay mid-stream, 6 times: every job in Redis exactly once, in order, none lost", async () => {
    const c = newCase();
    const env = { ...c.env, OUTBOX_BATCH: "100" };
    const written = await write(c.outbox, "k", 60, 50);
    const total = written.length;
    const sentNotDeleted = await killRelaysMidStream({ kills: 6, env, total, stored: () => raw.llen(c.keys.readyList("k", 0)), pending: () => c.outbox.pending() });
    const ids = await readyIds(raw, c.keys.queue("k"));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(written);
    console.log(`outbox kill -9: ${total} jobs, 6 kills, ${sentNotDeleted} sent-not-deleted at a kill (resent, stored once), ${ids.length} in Redis, lost ${total - ids.length}, doubled 0`);
    // Seven processes started one after the other: 1–2 s each on an idle machine, 7–8 s at load 27.
  }, 150_000);

  it("Redis unreachable for a while: `errand relay` reports each failed round (no password in them), loses and doubles nothing", async () => {
    const { proxy, url: viaProxy } = await redisBehindProxy(file);
    const c = newCase(viaProxy);
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
