// Flow decisions at enqueue in the Redis adapter (unique keys, recurring ticks), read from
// the keys: a duplicate stores nothing and publishes nothing, a lock names its holder and
// goes when the holder stops blocking, a tick is stored once per task.
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";

import { readJobRecords, RedisAdapter } from "@errand/adapter-redis";
import type { FlowControl, JobPayload, Reservation, UniqueWhile } from "@errand/core/adapter";
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

function open(): RedisAdapter {
  const prefix = redisPrefix();
  prefixes.push(prefix);
  const adapter = new RedisAdapter({ url, prefix, pollMs: 50 });
  opened.push(adapter);
  return adapter;
}

function job(flow: FlowControl, overrides: Partial<JobPayload> = {}): JobPayload {
  return payload({ flow, ...overrides });
}

const unique = (key: string, until: UniqueWhile, forMs?: number): FlowControl => ({ unique: forMs === undefined ? { key, while: until } : { key, while: until, forMs } });

async function reserveOne(adapter: RedisAdapter): Promise<Reservation> {
  const [got] = await adapter.reserve({ queues: ["default"], max: 1, leaseMs: 30_000, waitMs: 0, workerId: "flow-test" });
  if (!got) throw new Error("nothing to reserve");
  return got;
}

const error = { name: "Error", message: "boom" };

describe("redis flow control: unique", () => {
  it("decides a batch in order: the 2nd and 3rd are duplicates of the 1st, stored nowhere", async () => {
    const adapter = open();
    const jobs = [job(unique("K:1", "queued")), job(unique("K:1", "queued")), payload(), job(unique("K:1", "queued"))];
    const results = await adapter.enqueue({ jobs });
    const holder = jobs[0]!.id;
    expect(results).toEqual([
      { jobId: holder, providerJobId: holder },
      { jobId: holder, providerJobId: holder, duplicate: true },
      { jobId: jobs[2]!.id, providerJobId: jobs[2]!.id },
      { jobId: holder, providerJobId: holder, duplicate: true },
    ]);
    const q = adapter.keys.queue("default");
    expect(await readyIds(adapter.client, q)).toEqual([holder, jobs[2]!.id]);
    expect(await adapter.client.hlen(q.jobs)).toBe(2);
    expect(await adapter.client.hgetall(adapter.keys.flowKey("unique", "K:1"))).toEqual({ id: holder, q: "default", w: "queued", exp: "" });
    // The same payload sent again (a call retried after a lost reply) is not its own duplicate.
    expect(await adapter.enqueue({ jobs: [jobs[0]!] })).toEqual([{ jobId: holder, providerJobId: holder }]);
  });

  it("while queued: a running holder no longer blocks, and the new job becomes the holder", async () => {
    const adapter = open();
    const first = job(unique("K", "queued"));
    await adapter.enqueue({ jobs: [first] });
    await reserveOne(adapter);
    const second = job(unique("K", "queued"));
    expect(await adapter.enqueue({ jobs: [second] })).toEqual([{ jobId: second.id, providerJobId: second.id }]);
    expect(await adapter.client.hget(adapter.keys.flowKey("unique", "K"), "id")).toBe(second.id);
  });

  it("while active: running and retrying block; success removes the lock", async () => {
    const adapter = open();
    const holder = job(unique("K", "active"));
    await adapter.enqueue({ jobs: [holder] });
    const running = await reserveOne(adapter);
    expect((await adapter.enqueue({ jobs: [job(unique("K", "active"))] }))[0]).toMatchObject({ jobId: holder.id, duplicate: true });
    await adapter.settle({ settlements: [{ reservation: running, outcome: "retry", payload: { ...holder, executions: 1 }, runAt: new Date(), error }] });
    expect((await adapter.enqueue({ jobs: [job(unique("K", "active"))] }))[0]).toMatchObject({ jobId: holder.id, duplicate: true });
    const again = await reserveOne(adapter);
    await adapter.settle({ settlements: [{ reservation: again, outcome: "succeeded" }] });
    expect(await adapter.client.exists(adapter.keys.flowKey("unique", "K"))).toBe(0);
    const next = job(unique("K", "active"));
    expect((await adapter.enqueue({ jobs: [next] }))[0]).toEqual({ jobId: next.id, providerJobId: next.id });
  });

  it("while done: success blocks until the expiry, which the lock carries; failure and death never block", async () => {
    const adapter = open();
    const holder = job(unique("D", "done", 60_000));
    await adapter.enqueue({ jobs: [holder] });
    await adapter.settle({ settlements: [{ reservation: await reserveOne(adapter), outcome: "succeeded" }] });
    expect((await adapter.enqueue({ jobs: [job(unique("D", "done", 60_000))] }))[0]).toMatchObject({ jobId: holder.id, duplicate: true });
    const lock = adapter.keys.flowKey("unique", "D");
    expect(Number(await adapter.client.pexpiretime(lock))).toBe(Date.parse(holder.enqueuedAt) + 60_000);

    // Enqueued 2 minutes ago for 1 minute: its expiry is behind, so it never blocks.
    const past = new Date(Date.now() - 120_000).toISOString();
    const stale = job(unique("E", "done", 60_000), { enqueuedAt: past });
    await adapter.enqueue({ jobs: [stale] });
    const after = job(unique("E", "done", 60_000));
    expect((await adapter.enqueue({ jobs: [after] }))[0]).toEqual({ jobId: after.id, providerJobId: after.id });

    for (const outcome of ["failed", "dead"] as const) {
      const key = `F-${outcome}`;
      await adapter.enqueue({ jobs: [job(unique(key, "done", 60_000))] });
      const reservation = await adapter.reserve({ queues: ["default"], max: 10, leaseMs: 30_000, waitMs: 0, workerId: "t" });
      await adapter.settle({ settlements: reservation.map((r) => ({ reservation: r, outcome, error })) });
      expect(await adapter.client.exists(adapter.keys.flowKey("unique", key))).toBe(0);
      const fresh = job(unique(key, "done", 60_000));
      expect((await adapter.enqueue({ jobs: [fresh] }))[0]).toEqual({ jobId: fresh.id, providerJobId: fresh.id });
    }
  });

  it("a holder the backend no longer knows never blocks", async () => {
    const adapter = open();
    const holder = job(unique("G", "active"));
    await adapter.enqueue({ jobs: [holder] });
    const q = adapter.keys.queue("default");
    await adapter.client.hdel(q.jobs, holder.id);
    await adapter.client.lrem(adapter.keys.readyList("default", 0), 0, holder.id);
    const next = job(unique("G", "active"));
    expect((await adapter.enqueue({ jobs: [next] }))[0]).toEqual({ jobId: next.id, providerJobId: next.id });
  });

  it("a retry moved to another queue keeps its flow: the lock follows it, its slot is freed, nothing is refused", async () => {
    const adapter = open();
    const flow: FlowControl = { unique: { key: "M", while: "active" }, concurrency: { key: "m", limit: 1 }, recurring: { task: "t", tick: new Date(0).toISOString() } };
    const holder = job(flow);
    await adapter.enqueue({ jobs: [holder] });
    const running = await reserveOne(adapter);
    const moved = { ...holder, queue: "later", executions: 1 };
    await adapter.settle({ settlements: [{ reservation: running, outcome: "retry", payload: moved, runAt: new Date(), error }] });
    const later = adapter.keys.queue("later");
    expect(await readJobRecords(adapter.client, adapter.keys, "later", [holder.id])).toEqual([expect.objectContaining({ state: "queued", ck: "m", uk: "M" })]);
    expect(await adapter.client.hget(adapter.keys.flowKey("unique", "M"), "q")).toBe("later");
    expect(await adapter.client.zcard(adapter.keys.flowKey("slots", "m"))).toBe(0);
    // Still the holder, in its new queue: a job with the key is its duplicate.
    expect((await adapter.enqueue({ jobs: [job({ unique: { key: "M", while: "active" } })] }))[0]).toMatchObject({ jobId: holder.id, duplicate: true });
    const [again] = await adapter.reserve({ queues: ["later"], max: 10, leaseMs: 30_000, waitMs: 0, workerId: "t" });
    expect(again!.providerJobId).toBe(holder.id);
    expect(await adapter.client.zrange(adapter.keys.flowKey("slots", "m"), 0, -1)).toEqual([holder.id]);
  });

  it("a duplicate publishes nothing on the status channel", async () => {
    const adapter = open();
    const holder = job(unique("P", "queued"));
    await adapter.enqueue({ jobs: [holder] });
    const listener = new Redis(url);
    const heard: string[] = [];
    listener.on("message", (_channel, text: string) => heard.push(text));
    try {
      await listener.subscribe(adapter.keys.statusChannel);
      const duplicate = job(unique("P", "queued"));
      const marker = payload();
      await adapter.enqueue({ jobs: [duplicate] });
      await adapter.enqueue({ jobs: [marker] });
      await waitFor(() => heard.some((text) => text.includes(marker.id)), { message: "the marker job's 'enqueued' message" });
      expect(heard.filter((text) => text.includes(duplicate.id))).toEqual([]);
      expect(heard.map((text) => JSON.parse(text) as { ids: string[] })).toEqual([{ queue: "default", state: "enqueued", ids: [marker.id] }]);
    } finally {
      listener.disconnect();
    }
  });
});

describe("redis flow control: recurring", () => {
  const tick = (ms: number) => new Date(Date.UTC(2030, 0, 1) + ms).toISOString();
  const recurring = (task: string, ms: number): FlowControl => ({ recurring: { task, tick: tick(ms) } });

  it("stores a tick once per task: same or earlier ticks are duplicates of the last one's job", async () => {
    const adapter = open();
    const first = job(recurring("nightly", 0));
    const results = await adapter.enqueue({ jobs: [first, job(recurring("nightly", 0)), job(recurring("nightly", -60_000)), job(recurring("other", 0))] });
    expect(results.map((r) => r.duplicate === true)).toEqual([false, true, true, false]);
    expect(results[1]).toEqual({ jobId: first.id, providerJobId: first.id, duplicate: true });
    expect(await adapter.enqueue({ jobs: [first] })).toEqual([{ jobId: first.id, providerJobId: first.id }]);
    const later = job(recurring("nightly", 60_000), { queue: "elsewhere" });
    expect((await adapter.enqueue({ jobs: [later] }))[0]).toEqual({ jobId: later.id, providerJobId: later.id });

    expect(await adapter.recurringState({ tasks: ["nightly", "never", "other"] })).toEqual([
      { task: "nightly", lastTick: new Date(tick(60_000)), jobId: later.id },
      null,
      { task: "other", lastTick: new Date(tick(0)), jobId: results[3]!.jobId },
    ]);
    expect(await adapter.client.hget(adapter.keys.queue("default").recurring, "nightly")).toBe(`${Date.parse(tick(0))} ${first.id}`);
  });
});
