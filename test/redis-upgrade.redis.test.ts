// Upgrading a prefix from the Redis adapter's layout 1 (a hash per job) to layout 2 (one
// jobs hash per queue, migrate.ts): jobs in every state, written as the old scripts left
// them (support/redis-layout1.ts), are all there after the upgrade, once each, and status,
// listQueues, listDead, a drain and flow control (unique, concurrency, rate, recurring) all
// hold. Two processes upgrading at once move each job once. Layout 3 → 4 splits the finished
// jobs into succeeded and failed lists, in their order.
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";

import { LAYOUT_VERSION, RedisAdapter } from "@errand/adapter-redis";
import type { JobPayload, Reservation } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { payload } from "./conformance/harness.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { writeLayout1, writeRecurringTick, type OldJob, type OldState } from "./support/redis-layout1.js";

const url = redisUrl();
const prefixes: string[] = [];
const raw = new Redis(url);
const opened: RedisAdapter[] = [];
afterAll(async () => {
  await Promise.all(opened.map((adapter) => adapter.close()));
  raw.disconnect();
  await dropPrefixes(url, prefixes);
});

function open(prefix: string, options: { migrate?: boolean } = {}): RedisAdapter {
  const adapter = new RedisAdapter({ url, prefix, pollMs: 50, ...options });
  opened.push(adapter);
  return adapter;
}

/** Old job hashes left under `prefix`. */
async function oldHashes(prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await raw.scan(cursor, "MATCH", `${prefix}:{*}:j:*`, "COUNT", 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== "0");
  return found;
}

/** A layout-1 prefix with a job in every state (two queues), and what each job is. */
async function oldPrefix(): Promise<{ prefix: string; jobs: Record<string, OldJob>; tick: number }> {
  const prefix = redisPrefix("errand-upgrade");
  prefixes.push(prefix);
  const past = new Date(Date.now() - 60_000).toISOString();
  const later = new Date(Date.now() + 3_600_000).toISOString();
  const make = (state: OldState, extra: Partial<OldJob> = {}, overrides: Partial<JobPayload> = {}): OldJob => ({
    payload: payload({ args: { json: [state, "ünïcødé ✓"], meta: { values: { "0": ["undefined"] } } }, ...overrides }),
    state,
    ...extra,
  });
  const jobs: Record<string, OldJob> = {
    queued: make("queued", {}, { priority: -2 }),
    scheduled: make("scheduled", {}, { runAt: later }),
    due: make("scheduled", {}, { runAt: past }),
    running: make("running"),
    expired: make("running", { at: Date.now() - 1000, flow: { ck: "slot", cl: 1 } }),
    parked: make("parked", { flow: { ck: "slot", cl: 1 } }),
    retrying: make("retrying", { at: Date.now() - 1000 }),
    succeeded: make("succeeded"),
    failed: make("failed"),
    dead: make("dead", {}, { executions: 2 }),
    deferred: make("deferred", { at: Date.now() - 1000, flow: { rk: "rate", rl: 5, rp: 60_000 } }),
    unique: make("queued", { flow: { uk: "U", uw: "active" } }),
  };
  await writeLayout1(raw, prefix, "default", Object.values(jobs));
  const other = make("queued", {}, { queue: "other" });
  jobs.other = other;
  await writeLayout1(raw, prefix, "other", [other]);
  const tick = Date.parse(past);
  await writeRecurringTick(raw, prefix, "default", "nightly", tick, jobs.queued!.payload.id);
  return { prefix, jobs, tick };
}

function reserveAll(adapter: RedisAdapter, queues: string[]): Promise<Reservation[]> {
  return adapter.reserve({ queues, max: 100, leaseMs: 30_000, waitMs: 0, workerId: "upgrade-test" });
}

describe("redis upgrade from layout 1", () => {
  it("moves every job in every state on first use: status, counts, the dead set, a drain and flow control all hold", async () => {
    const { prefix, jobs, tick } = await oldPrefix();
    const adapter = open(prefix);
    const ids = Object.fromEntries(Object.entries(jobs).map(([name, job]) => [name, job.payload.id]));

    // First use: status reads the upgraded records.
    const statuses = await adapter.getStatus({ ids: Object.values(ids) });
    const stateOf = Object.fromEntries(Object.keys(ids).map((name, index) => [name, statuses[index]?.state]));
    expect(stateOf).toEqual({
      queued: "queued", scheduled: "scheduled", due: "queued", running: "running", expired: "running", parked: "queued",
      retrying: "retrying", succeeded: "succeeded", failed: "failed", dead: "dead", deferred: "queued", unique: "queued", other: "queued",
    });
    expect(statuses[Object.keys(ids).indexOf("succeeded")]).toMatchObject({ result: "42", executions: 1, queue: "default", job: "RecordJob" });
    expect(statuses[Object.keys(ids).indexOf("queued")]).toMatchObject({ priority: -2, enqueuedAt: new Date(jobs.queued!.payload.enqueuedAt) });
    expect(await oldHashes(prefix)).toEqual([]);
    expect(await raw.get(`${prefix}:layout`)).toBe(String(LAYOUT_VERSION));
    // The old ready and finished zsets became lists, in their order.
    const q = adapter.keys.queue("default");
    expect(await raw.exists(q.ready, q.finished)).toBe(0);
    expect(await raw.lrange(adapter.keys.readyList("default", -2), 0, -1)).toEqual([ids.queued]);
    expect(await raw.lrange(adapter.keys.readyList("default", 0), 0, -1)).toEqual([ids.unique]);
    expect(await raw.lrange(q.done, 0, -1)).toEqual([ids.succeeded]);
    expect(await raw.lrange(q.failed, 0, -1)).toEqual([ids.failed]);
    expect((await raw.hlen(adapter.keys.queue("default").jobs)) + (await raw.hlen(adapter.keys.queue("other").jobs))).toBe(Object.keys(jobs).length);

    // The due scheduled job counts as queued (its status reads so).
    const counts = await adapter.listQueues();
    expect(counts).toEqual([
      { name: "default", queued: 5, scheduled: 1, running: 2, retrying: 1, dead: 1, succeeded: 1, failed: 1, latencyMs: expect.any(Number), paused: false },
      { name: "other", queued: 1, scheduled: 0, running: 0, retrying: 0, dead: 0, succeeded: 0, failed: 0, latencyMs: expect.any(Number), paused: false },
    ]);

    const dead = await adapter.listDead({});
    expect(dead.map((job) => [job.id, JSON.parse(job.body), job.error.message])).toEqual([[ids.dead, jobs.dead!.payload, "boom"]]);
    expect(statuses[Object.keys(ids).indexOf("retrying")]).toMatchObject({ error: { name: "Error", message: "boom" }, executions: 1 });
    expect(statuses[Object.keys(ids).indexOf("running")]?.startedAt).toBeInstanceOf(Date);

    // Flow: the old unique lock still names its holder; the recurring tick is still there.
    const duplicate = payload({ flow: { unique: { key: "U", while: "active" } } });
    expect(await adapter.enqueue({ jobs: [duplicate] })).toEqual([{ jobId: ids.unique, providerJobId: ids.unique, duplicate: true }]);
    expect(await adapter.recurringState({ tasks: ["nightly"] })).toEqual([{ task: "nightly", lastTick: new Date(tick), jobId: ids.queued }]);

    // A drain: every runnable job comes out once, with its payload as stored. The expired
    // lease frees the slot, which un-parks the parked job; the deferred job's time has come.
    const seen = new Map<string, JobPayload>();
    await waitFor(async () => {
      const got = await reserveAll(adapter, ["default", "other"]);
      for (const reservation of got) {
        expect(seen.has(reservation.providerJobId), `${reservation.providerJobId} reserved twice`).toBe(false);
        seen.set(reservation.providerJobId, JSON.parse(reservation.body) as JobPayload);
      }
      await adapter.settle({ settlements: got.map((reservation) => ({ reservation, outcome: "succeeded" as const })) });
      return ["queued", "due", "expired", "parked", "retrying", "deferred", "unique", "other"].every((name) => seen.has(ids[name]!));
    }, { message: "every runnable old job to be reserved" });
    for (const name of ["queued", "due", "expired", "parked", "retrying", "deferred", "unique", "other"]) {
      expect(seen.get(ids[name]!), name).toEqual(jobs[name]!.payload);
    }
    expect(seen.has(ids.scheduled!)).toBe(false);
    expect(seen.has(ids.running!)).toBe(false);
    // The unique holder finished: its lock went with it, so the key is free again.
    const fresh = payload({ flow: { unique: { key: "U", while: "active" } } });
    expect(await adapter.enqueue({ jobs: [fresh] })).toEqual([{ jobId: fresh.id, providerJobId: fresh.id }]);

    // The revived dead job runs with its payload.
    expect(await adapter.retryDead({ select: { ids: [ids.dead!] }, revive: (body) => ({ payload: { ...JSON.parse(body), executions: 0 }, body: JSON.stringify({ ...JSON.parse(body), executions: 0 }) }) })).toBe(1);
    const [revived] = await reserveAll(adapter, ["default"]).then((got) => got.filter((r) => r.providerJobId === ids.dead));
    expect(JSON.parse(revived!.body)).toEqual({ ...jobs.dead!.payload, executions: 0 });
  });

  it("two processes upgrading at once move each job once; a prefix with a newer layout is refused", async () => {
    const { prefix, jobs } = await oldPrefix();
    const [a, b] = [open(prefix, { migrate: false }), open(prefix, { migrate: false })];
    const [ra, rb] = await Promise.all([a.migrate(), b.migrate()]);
    // Exactly one of them marked the layout (layout 1 → 2 → 3 → 4).
    expect([...ra.applied, ...rb.applied]).toHaveLength(3);
    expect(await oldHashes(prefix)).toEqual([]);
    expect((await raw.hlen(a.keys.queue("default").jobs)) + (await raw.hlen(a.keys.queue("other").jobs))).toBe(Object.keys(jobs).length);
    expect(await a.migrate()).toEqual({ applied: [] });

    await raw.set(`${prefix}:layout`, "99");
    const newer = open(prefix);
    await expect(newer.listQueues()).rejects.toThrow(/layout 99, which this version \(layout 4\) cannot read/);
    expect(LAYOUT_VERSION).toBe(4);
  });

  it("layout 2 → 3: a flow job stored with its flow in the body reads back as stored; new ones keep the key once", async () => {
    const prefix = redisPrefix("errand-upgrade");
    prefixes.push(prefix);
    const old = payload({ flow: { concurrency: { key: "tenant-old", limit: 2 }, rateLimit: { key: "api-old", limit: 50, perMs: 1000 } } });
    // A layout-2 record as the layout-2 scripts wrote it: its flow both in the compact body
    // ("_": id, queue, job class, priority and the dates left to the record) and in ck cl rk rl rp.
    const { v: _v, id: _id, queue: _queue, job: _job, priority: _priority, enqueuedAt: _enq, runAt: _run, ...rest } = old;
    const q = `${prefix}:{default}:`;
    await raw.eval(
      `redis.call('HSET', KEYS[1], ARGV[1], cmsgpack.pack({ k = ARGV[2], j = ARGV[3], n = tonumber(ARGV[4]), ck = 'tenant-old', cl = '2', rk = 'api-old', rl = '50', rp = '1000' }))
       redis.call('RPUSH', KEYS[2], ARGV[1]); redis.call('ZADD', KEYS[3], 0, 0); redis.call('SET', KEYS[4], '1')`,
      4, `${q}jobs`, `${q}ready:0`, `${q}prios`, `${q}flow`,
      old.id, `_${JSON.stringify(rest)}`, old.job, Date.parse(old.enqueuedAt),
    );
    await raw.sadd(`${prefix}:queues`, "default");
    await raw.set(`${prefix}:layout`, "2");

    const adapter = open(prefix, { migrate: false });
    const [first, second] = await Promise.all([adapter.migrate(), open(prefix, { migrate: false }).migrate()]);
    expect([...first.applied, ...second.applied]).toEqual(["redis-layout-3: a flow job's settings only in its record", "redis-layout-4: failed jobs in a list of their own"]);
    expect(await raw.get(`${prefix}:layout`)).toBe("4");

    const fresh = payload({ flow: { concurrency: { key: "tenant-new", limit: 2 }, unique: { key: "only-once", while: "active" } } });
    await adapter.enqueue({ jobs: [fresh] });
    // The new record holds each key once (in its fields), the old one twice (body and fields).
    const stored = async (id: string) => (await raw.hgetBuffer(`${q}jobs`, id))!.toString("latin1");
    const count = (text: string, key: string) => text.split(key).length - 1;
    expect(count(await stored(fresh.id), "tenant-new")).toBe(1);
    expect(count(await stored(fresh.id), "only-once")).toBe(1);
    expect(count(await stored(old.id), "tenant-old")).toBe(2);

    const statuses = await adapter.getStatus({ ids: [old.id, fresh.id] });
    expect(statuses.map((status) => status?.state)).toEqual(["queued", "queued"]);
    const got = await reserveAll(adapter, ["default"]);
    expect(new Map(got.map((r) => [r.providerJobId, JSON.parse(r.body) as JobPayload]))).toEqual(new Map([[old.id, old], [fresh.id, fresh]]));
    // Dead without a new payload: the stored body stays, and the dead set rebuilds it from the record.
    const error = { name: "Error", message: "gone" };
    await adapter.settle({ settlements: got.map((reservation) => ({ reservation, outcome: "dead" as const, error })) });
    const dead = await adapter.listDead({});
    expect(new Map(dead.map((job) => [job.id, JSON.parse(job.body) as JobPayload]))).toEqual(new Map([[old.id, old], [fresh.id, fresh]]));
  });

  it("layout 3 → 4: two processes split a queue's finished jobs into succeeded and failed lists, each once, in order", async () => {
    const prefix = redisPrefix("errand-upgrade");
    prefixes.push(prefix);
    const q = `${prefix}:{default}:`;
    // 2,500 finished jobs as layout 3 kept them, one list, every seventh failed; one id whose record retention took.
    const ids = Array.from({ length: 2_500 }, (_, i) => `job-${String(i).padStart(5, "0")}`);
    const failed = ids.filter((_, i) => i % 7 === 3);
    await raw.eval(
      `for i, id in ipairs(ARGV) do
         local state = 'succeeded'
         if i % 7 == 4 then state = 'failed' end
         if i ~= 10 then redis.call('HSET', KEYS[1], id, cmsgpack.pack({ s = state, j = 'RecordJob', n = 1000, f = i })) end
         redis.call('RPUSH', KEYS[2], id)
       end`,
      2, `${q}jobs`, `${q}done`, ...ids,
    );
    await raw.sadd(`${prefix}:queues`, "default");
    await raw.set(`${prefix}:layout`, "3");
    const adapter = open(prefix, { migrate: false });
    const [first, second] = await Promise.all([adapter.migrate(), open(prefix, { migrate: false }).migrate()]);
    expect([...first.applied, ...second.applied]).toEqual(["redis-layout-4: failed jobs in a list of their own"]);
    expect(await raw.get(`${prefix}:layout`)).toBe("4");
    expect(await raw.lrange(`${q}failed`, 0, -1)).toEqual(failed);
    expect(await raw.lrange(`${q}done`, 0, -1)).toEqual(ids.filter((id) => !failed.includes(id)));
    expect(await raw.exists(`${q}done4`)).toBe(0);
    const [info] = await adapter.listQueues();
    expect(info).toMatchObject({ succeeded: ids.length - failed.length, failed: failed.length });
  });

  it("a fresh prefix is marked current on first use, with nothing to move", async () => {
    const prefix = redisPrefix("errand-upgrade");
    prefixes.push(prefix);
    const adapter = open(prefix);
    expect(await adapter.migrate()).toEqual({ applied: [] });
    expect(await raw.get(`${prefix}:layout`)).toBe(String(LAYOUT_VERSION));
  });
});
