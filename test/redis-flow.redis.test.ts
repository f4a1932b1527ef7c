// Flow control in the Redis adapter, read from the keys themselves: what the shared
// conformance areas (flow.ts, recurring.ts) cannot see. Parked and deferred jobs leave the
// ready zset and count as queued; slots follow leases; the safety sweep un-parks what no
// settle did; nothing is left behind once jobs finish (keys counted); and two adapters
// reserving at once never start more than a limit, counted from the jobs handed out.
import { afterAll, describe, expect, it } from "vitest";

import { RedisAdapter } from "@errand/adapter-redis";
import type { FlowControl, JobPayload, Reservation } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { payload } from "./conformance/harness.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { readyIds } from "./support/redis-jobs.js";

const url = redisUrl();
const prefixes: string[] = [];
const opened: RedisAdapter[] = [];
afterAll(async () => {
  await Promise.all(opened.map((adapter) => adapter.close()));
  await dropPrefixes(url, prefixes);
});

/** An adapter on a fresh prefix, or on `prefix` (another process of the same app). */
function open(prefix = redisPrefix()): RedisAdapter {
  if (!prefixes.includes(prefix)) prefixes.push(prefix);
  const adapter = new RedisAdapter({ url, prefix, pollMs: 50 });
  opened.push(adapter);
  return adapter;
}

function job(flow: FlowControl, overrides: Partial<JobPayload> = {}): JobPayload {
  return payload({ flow, ...overrides });
}

function reserve(adapter: RedisAdapter, options: { queues?: string[]; max?: number; leaseMs?: number } = {}): Promise<Reservation[]> {
  return adapter.reserve({ queues: options.queues ?? ["default"], max: options.max ?? 10, leaseMs: options.leaseMs ?? 30_000, waitMs: 0, workerId: "flow-test" });
}

function succeed(adapter: RedisAdapter, reservations: Reservation[]): Promise<void> {
  return adapter.settle({ settlements: reservations.map((reservation) => ({ reservation, outcome: "succeeded" as const })) });
}

/** Every key under the adapter's prefix. */
async function keysOf(adapter: RedisAdapter): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await adapter.client.scan(cursor, "MATCH", `${adapter.keys.prefix}:*`, "COUNT", 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== "0");
  return found.sort();
}

const concurrency = (key: string, limit: number): FlowControl => ({ concurrency: { key, limit } });

describe("redis flow control: concurrency", () => {
  it("parks what a full key cannot start: out of the ready zset, still queued, un-parked FIFO by a settle", async () => {
    const adapter = open();
    const q = adapter.keys.queue("default");
    const jobs = Array.from({ length: 5 }, (_, i) => job(concurrency("acct-1", 2), { args: { json: [i] } }));
    await adapter.enqueue({ jobs });

    const first = await reserve(adapter);
    expect(first.map((r) => r.providerJobId)).toEqual([jobs[0]!.id, jobs[1]!.id]);
    expect(await readyIds(adapter.client, q)).toEqual([]);
    // The parked zset counts them (scored by priority); the key's list keeps them FIFO.
    expect((await adapter.client.zrange(q.parked, 0, -1)).sort()).toEqual(jobs.slice(2).map((j) => j.id).sort());
    expect(await adapter.client.lrange(adapter.keys.flowKey("parked", "acct-1"), 0, -1)).toEqual(jobs.slice(2).map((j) => JSON.stringify(["default", j.id])));
    expect(await adapter.client.smembers(adapter.keys.parkedKeys)).toEqual(["acct-1"]);
    const parked = await adapter.getStatus({ ids: [jobs[2]!.id] });
    expect(parked[0]).toMatchObject({ state: "queued", executions: 0 });
    expect(await adapter.listQueues()).toEqual([expect.objectContaining({ name: "default", queued: 3, running: 2 })]);
    // Nothing to hand out while the key is full: reserve does not loop on parked jobs.
    expect(await reserve(adapter)).toEqual([]);

    await succeed(adapter, [first[0]!]);
    expect(await readyIds(adapter.client, q)).toEqual([jobs[2]!.id]);
    const next = await reserve(adapter);
    expect(next.map((r) => r.providerJobId)).toEqual([jobs[2]!.id]);
    expect(next[0]!.deliveries).toBe(1);
  });

  it("a slot follows its holder's lease: extended with it, freed (and a job un-parked) when it expires", async () => {
    const adapter = open();
    const slots = adapter.keys.flowKey("slots", "solo");
    const [a, b] = [job(concurrency("solo", 1), { queue: "qa" }), job(concurrency("solo", 1))];
    await adapter.enqueue({ jobs: [a, b] });
    const [held] = await reserve(adapter, { queues: ["qa"], leaseMs: 60_000 });
    expect(held!.providerJobId).toBe(a.id);
    expect(await reserve(adapter)).toEqual([]);

    await adapter.extendLease({ reservations: [held!], leaseMs: 200 });
    const active = Number(await adapter.client.zscore(adapter.keys.queue("qa").active, a.id));
    expect(Number(await adapter.client.zscore(slots, a.id))).toBe(active);

    // The lease runs out: the upkeep of qa returns `a` and frees its slot, and `b` goes back
    // to the ready zset of its own queue (where, `a` holding the slot again, it will park
    // again when popped: admission is decided at reserve).
    const again = await waitFor(async () => {
      const got = await reserve(adapter, { queues: ["qa"] });
      return got.length > 0 ? got : undefined;
    }, { message: "the holder to be handed out again after its lease expired" });
    expect(again.map((r) => r.providerJobId)).toEqual([a.id]);
    expect(await readyIds(adapter.client, adapter.keys.queue("default"))).toEqual([b.id]);
    expect(await adapter.client.zcard(adapter.keys.queue("default").parked)).toBe(0);
    expect(await adapter.client.zrange(slots, 0, -1)).toEqual([a.id]);
  });

  it("the limit spans queues and adapters; the safety sweep un-parks when no settle or expiry did", async () => {
    const adapter = open();
    const [a, b] = [job(concurrency("shared", 1), { queue: "qa" }), job(concurrency("shared", 1), { queue: "qb" })];
    await adapter.enqueue({ jobs: [a, b] });
    expect((await reserve(adapter, { queues: ["qa"], leaseMs: 100 })).map((r) => r.providerJobId)).toEqual([a.id]);
    expect(await reserve(adapter, { queues: ["qb"] })).toEqual([]);
    expect(await adapter.client.zrange(adapter.keys.queue("qb").parked, 0, -1)).toEqual([b.id]);

    // `a`'s lease runs out, but nobody reserves from qa, so no upkeep returns it: only the
    // sweep (run by reserves of any queue) sees the key has room again.
    const peer = open(adapter.keys.prefix);
    const taken = await waitFor(async () => {
      const got = await reserve(peer, { queues: ["qb"] });
      return got.length > 0 ? got : undefined;
    }, { message: "the sweep to un-park the job of qb", timeoutMs: 5000 });
    expect(taken.map((r) => r.providerJobId)).toEqual([b.id]);
    expect(await adapter.client.smembers(adapter.keys.parkedKeys)).toEqual([]);
  });

  it("a retry and a release free the slot; a job with a key waits its turn behind nothing else", async () => {
    const adapter = open();
    const [a, b] = [job(concurrency("k", 1)), job(concurrency("k", 1))];
    const plain = payload();
    await adapter.enqueue({ jobs: [a, b, plain] });
    const got = await reserve(adapter);
    // `b` is parked; the plain job behind it is handed out in the same call.
    expect(got.map((r) => r.providerJobId)).toEqual([a.id, plain.id]);
    await adapter.settle({ settlements: [{ reservation: got[0]!, outcome: "released" }] });
    // The released job is back at its place (ahead of `b`), and `b` was un-parked after it.
    expect(await readyIds(adapter.client, adapter.keys.queue("default"))).toEqual([a.id, b.id]);
    const again = await reserve(adapter);
    expect(again.map((r) => r.providerJobId)).toEqual([a.id]);
    const error = { name: "Error", message: "boom" };
    const retried = { ...a, executions: 1 };
    await adapter.settle({ settlements: [{ reservation: again[0]!, outcome: "retry", payload: retried, runAt: new Date(Date.now() + 60_000), error }] });
    expect((await reserve(adapter)).map((r) => r.providerJobId)).toEqual([b.id]);
  });

  it("two adapters reserving at once never start more than the limit, counted from the jobs handed out", async () => {
    const one = open();
    const two = open(one.keys.prefix);
    const LIMIT = 3;
    const jobs = Array.from({ length: 60 }, () => job(concurrency("burst", LIMIT)));
    await one.enqueue({ jobs });
    // A job counts from the moment reserve hands it out until its settle is sent: inside the
    // time Redis counts its slot, so this count can only be lower than the server's.
    let running = 0;
    let most = 0;
    let done = 0;
    const loop = async (adapter: RedisAdapter) => {
      while (done < jobs.length) {
        const got = await adapter.reserve({ queues: ["default"], max: 4, leaseMs: 30_000, waitMs: 100, workerId: "burst" });
        running += got.length;
        most = Math.max(most, running);
        await new Promise((resolve) => setImmediate(resolve));
        running -= got.length;
        done += got.length;
        await succeed(adapter, got);
      }
    };
    await Promise.all([loop(one), loop(two), loop(one), loop(two)]);
    expect(done).toBe(jobs.length);
    expect(most).toBe(LIMIT);
  });
});

describe("redis flow control: rate limits", () => {
  it("defers a job over the limit until the oldest start leaves the window; nothing counted", async () => {
    const adapter = open();
    const q = adapter.keys.queue("default");
    const rate = { rateLimit: { key: "api", limit: 2, perMs: 400 } };
    const jobs = Array.from({ length: 3 }, () => job(rate));
    await adapter.enqueue({ jobs });
    const first = await reserve(adapter);
    expect(first).toHaveLength(2);
    const window = adapter.keys.flowKey("rate", "api");
    const starts = await adapter.client.zrange(window, 0, -1, "WITHSCORES");
    expect(await readyIds(adapter.client, q)).toEqual([]);
    expect(Number(await adapter.client.zscore(q.deferred, jobs[2]!.id))).toBe(Number(starts[1]) + 400);
    expect((await adapter.getStatus({ ids: [jobs[2]!.id] }))[0]).toMatchObject({ state: "queued", executions: 0 });
    expect(await adapter.listQueues()).toEqual([expect.objectContaining({ queued: 1, running: 2 })]);
    expect(await adapter.client.pttl(window)).toBeGreaterThan(0);

    const later = await waitFor(async () => {
      const got = await reserve(adapter);
      return got.length > 0 ? got : undefined;
    }, { message: "the deferred job once the window allows" });
    expect(later.map((r) => r.providerJobId)).toEqual([jobs[2]!.id]);
    expect(later[0]!.deliveries).toBe(1);
  });

  it("with both limits: a rate denial takes no slot, a concurrency denial records no start", async () => {
    const adapter = open();
    const both = (key: string) => ({ concurrency: { key, limit: 1 }, rateLimit: { key, limit: 1, perMs: 60_000 } });
    const [a, b] = [job(both("x")), job(both("x"))];
    await adapter.enqueue({ jobs: [a, b] });
    expect((await reserve(adapter)).map((r) => r.providerJobId)).toEqual([a.id]);
    // `b`: the rate denies first, so it is deferred, not parked, and holds no slot.
    expect(await adapter.client.zrange(adapter.keys.flowKey("slots", "x"), 0, -1)).toEqual([a.id]);
    expect(await adapter.client.zrange(adapter.keys.queue("default").deferred, 0, -1)).toEqual([b.id]);
    expect(await adapter.client.llen(adapter.keys.flowKey("parked", "x"))).toBe(0);

    const c = job({ concurrency: { key: "y", limit: 1 }, rateLimit: { key: "y-rate", limit: 5, perMs: 60_000 } });
    const d = job({ concurrency: { key: "y", limit: 1 }, rateLimit: { key: "y-rate", limit: 5, perMs: 60_000 } });
    await adapter.enqueue({ jobs: [c, d] });
    expect((await reserve(adapter)).map((r) => r.providerJobId)).toEqual([c.id]);
    // `d`: the rate allows, the key is full: parked, and its start is not in the window.
    expect(await adapter.client.zcard(adapter.keys.flowKey("rate", "y-rate"))).toBe(1);
    expect(await adapter.client.zrange(adapter.keys.queue("default").parked, 0, -1)).toEqual([d.id]);
  });
});

describe("redis flow control: keys left behind", () => {
  it("once the jobs finish, no flow key remains but the recurring record, the queue's flow marker and the expiring ones", async () => {
    const adapter = open();
    const before = await keysOf(adapter);
    const jobs = [
      ...Array.from({ length: 10 }, (_, i) => job({ unique: { key: `U:${i}`, while: "active" }, concurrency: { key: "c", limit: 2 }, rateLimit: { key: "r", limit: 100, perMs: 300 } })),
      job({ unique: { key: "U:done", while: "done", forMs: 300 } }),
      job({ recurring: { task: "nightly", tick: new Date(0).toISOString() } }),
    ];
    await adapter.enqueue({ jobs });
    let finished = 0;
    await waitFor(async () => {
      const got = await reserve(adapter, { max: 5 });
      await succeed(adapter, got);
      finished += got.length;
      return finished === jobs.length;
    }, { message: "every job to finish" });
    const q = adapter.keys.queue("default");
    const expected = [...before, adapter.keys.queues, adapter.keys.layout, q.done, q.recurring, q.flow, q.jobs].sort();
    // The rate window (PEXPIRE perMs) and the `done` lock (PEXPIREAT enqueuedAt + forMs) go by themselves.
    await waitFor(async () => (await keysOf(adapter)).join() === expected.join(), { message: "only the finished jobs' keys and the recurring record to remain" });
  });
});
