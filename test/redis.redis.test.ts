// Redis internals that only raw keys and server-side actions can show: the key layout and
// its hash tags, retention deleting job hashes, the status channel, versioned scripts that
// survive SCRIPT FLUSH, wake-ups racing a reserve, and a retry moving between queues.
// Portable behaviour lives in the conformance suite (test/redis.conformance.test.ts).
import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";

import { configure, Job, Worker } from "@errand/core";
import { readJobRecords, RedisAdapter, type RedisAdapterOptions } from "@errand/adapter-redis";
import { waitFor } from "@errand/core/testing";

import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { readyIds } from "./support/redis-jobs.js";

const url = redisUrl();
const prefixes: string[] = [];
const raw = new Redis(url);
afterAll(async () => {
  raw.disconnect();
  await dropPrefixes(url, prefixes);
});

function freshAdapter(options: Partial<RedisAdapterOptions> = {}): RedisAdapter {
  const prefix = redisPrefix();
  prefixes.push(prefix);
  return new RedisAdapter({ url, prefix, ...options });
}

class EchoJob extends Job<[n: number]> {
  perform(n: number) {
    return n;
  }
}

class MovedError extends Error {}
/** Fails on its first run; its rule sends the retry to queue "b". */
class MovingJob extends Job<[]> {
  static override retry = [[MovedError, { attempts: 2, wait: 0, jitter: 0, queue: "b" }]] as const;
  perform() {
    if (this.executions === 1) throw new MovedError("try again elsewhere");
    return this.queueName;
  }
}

describe("redis internals", () => {
  it("keeps a queue's keys under its hash tag, with the job's record in the queue's jobs hash", async () => {
    const adapter = freshAdapter();
    const runtime = configure({ adapter, worker: { embedded: false } });
    try {
      const now = await EchoJob.set({ queue: "mail", priority: 4 }).performLater(7);
      const later = await EchoJob.set({ queue: "mail", wait: "1h" }).performLater(8);
      const keys = adapter.keys.queue("mail");
      expect(keys.prios).toBe(`${adapter.keys.prefix}:{mail}:prios`);
      expect(await readyIds(raw, keys)).toEqual([now.jobId]);
      expect(await raw.lrange(adapter.keys.readyList("mail", 4), 0, -1)).toEqual([now.jobId]);
      expect(await raw.zrange(keys.scheduled, 0, -1)).toEqual([later.jobId]);
      const [job] = await readJobRecords(raw, adapter.keys, "mail", [now.jobId]);
      expect(job).toMatchObject({ job: "EchoJob", priority: "4", state: "queued", exe: "0" });
      // The compact body: what the record holds besides (id, queue, class, priority, dates) left out.
      expect(job!.cbody).toBe('_{"args":{"json":[7]},"executions":0}');
      expect(await raw.hlen(keys.jobs)).toBe(2);
      expect(await raw.smembers(adapter.keys.queues)).toEqual(["mail"]);
      // One slot for every key of the queue: what lets each script run on Redis Cluster.
      const slots = await Promise.all(Object.values(keys).map((key) => raw.call("CLUSTER", "KEYSLOT", key).catch(() => undefined)));
      if (slots[0] !== undefined) expect(new Set(slots).size).toBe(1);
    } finally {
      await runtime.close();
    }
  });

  it("retention deletes finished jobs past their age and beyond the count, hashes included, and keeps dead ones", async () => {
    const adapter = freshAdapter({ retentionMs: 60_000, maxFinished: 3 });
    const runtime = configure({ adapter, worker: { embedded: false } });
    const keys = adapter.keys.queue("default");
    const worker = new Worker({ runtime, concurrency: 2 });
    try {
      await Promise.all(Array.from({ length: 3 }, (_, i) => EchoJob.performLater(i)));
      await worker.start();
      await worker.drained();
      // Age the oldest finished job past retention; make the next one dead long ago (it must stay).
      const [aged, dying, third] = await raw.lrange(keys.done, 0, -1);
      await raw.eval(
        "local rec = cmsgpack.unpack(redis.call('HGET', KEYS[1], ARGV[1])); rec.f = tonumber(ARGV[2]) - rec.n; redis.call('HSET', KEYS[1], ARGV[1], cmsgpack.pack(rec))",
        1, keys.jobs, aged!, Date.now() - 120_000,
      );
      await raw.lrem(keys.done, 0, dying!);
      await raw.zadd(keys.dead, Date.now() - 86_400_000, dying!);
      await raw.eval(
        "local rec = cmsgpack.unpack(redis.call('HGET', KEYS[1], ARGV[1])); rec.s = 'dead'; rec.o = ARGV[2]; redis.call('HSET', KEYS[1], ARGV[1], cmsgpack.pack(rec))",
        1, keys.jobs, dying!, JSON.stringify({ name: "Error", message: "gone" }),
      );
      // Four more jobs: each settle trims, so the finished set ends at the newest three.
      const more = await Promise.all(Array.from({ length: 4 }, (_, i) => EchoJob.performLater(10 + i)));
      await worker.drained();
      expect(await raw.hexists(keys.jobs, aged!)).toBe(0);
      expect(await raw.llen(keys.done)).toBe(3);
      const kept = await raw.lrange(keys.done, 0, -1);
      expect(more.map((job) => job.jobId)).toEqual(expect.arrayContaining(kept));
      for (const id of [third!, ...more.map((job) => job.jobId)].filter((id) => !kept.includes(id))) {
        expect(await raw.hexists(keys.jobs, id), `record of trimmed job ${id}`).toBe(0);
      }
      expect(await raw.zrange(keys.dead, 0, -1)).toEqual([dying]);
      expect((await readJobRecords(raw, adapter.keys, "default", [dying!]))[0]?.state).toBe("dead");
    } finally {
      await worker.stop();
      await runtime.close();
    }
  });

  it("publishes each batch of state changes on the status channel", async () => {
    const adapter = freshAdapter();
    const runtime = configure({ adapter, worker: { embedded: false } });
    const subscriber = new Redis(url);
    const messages: { queue: string; state: string; ids: string[] }[] = [];
    subscriber.on("message", (_channel: string, message: string) => messages.push(JSON.parse(message)));
    await subscriber.subscribe(adapter.keys.statusChannel);
    const worker = new Worker({ runtime, concurrency: 1 });
    try {
      const { jobId } = await EchoJob.performLater(1);
      await worker.start();
      await worker.drained();
      await waitFor(() => messages.some((m) => m.state === "succeeded"), { message: "the succeeded message" });
      const states = messages.filter((m) => m.ids.includes(jobId)).map((m) => m.state);
      expect(states).toEqual(["enqueued", "running", "succeeded"]);
      expect(messages.every((m) => m.queue === "default")).toBe(true);
    } finally {
      subscriber.disconnect();
      await worker.stop();
      await runtime.close();
    }
  });

  it("runs its scripts under versioned names, and again after SCRIPT FLUSH (NOSCRIPT falls back to loading)", async () => {
    const adapter = freshAdapter();
    const runtime = configure({ adapter, worker: { embedded: false } });
    try {
      const client = adapter.client as unknown as Record<string, unknown>;
      expect(typeof client.errand_0_1_0_reserve).toBe("function");
      await EchoJob.performLater(1);
      await raw.script("FLUSH");
      await EchoJob.performLater(2);
      const reserved = await adapter.reserve({ queues: ["default"], max: 10, leaseMs: 30_000, waitMs: 0, workerId: "t" });
      expect(reserved).toHaveLength(2);
    } finally {
      await runtime.close();
    }
  });

  it("a job enqueued while an empty reserve is in flight wakes that reserve, not its poll fallback", async () => {
    // The fallback is 60 s: a reserve that missed the wake-up published while its script ran
    // would sleep that long. 200 rounds make the race likely.
    const adapter = freshAdapter({ pollMs: 60_000 });
    const runtime = configure({ adapter, worker: { embedded: false } });
    const reserve = (waitMs: number) => adapter.reserve({ queues: ["race"], max: 1, leaseMs: 60_000, waitMs, workerId: "race" });
    try {
      await reserve(0);
      for (let round = 0; round < 200; round++) {
        const reserving = reserve(30_000);
        await EchoJob.set({ queue: "race" }).performLater(round);
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<"missed">((resolve) => (timer = setTimeout(() => resolve("missed"), 5_000)));
        const got = await Promise.race([reserving, deadline]).finally(() => clearTimeout(timer));
        if (got === "missed") throw new Error(`round ${round}: the reserve slept through the wake-up of a job enqueued while it ran`);
        expect(got).toHaveLength(1);
      }
    } finally {
      await runtime.close();
    }
  });

  it("refuses a priority the ready score cannot hold, naming the job", async () => {
    const adapter = freshAdapter();
    const runtime = configure({ adapter, worker: { embedded: false } });
    try {
      await expect(EchoJob.set({ priority: 2 ** 21 }).performLater(1)).rejects.toThrow(/EchoJob: priority 2097152 is outside/);
      expect(await raw.exists(adapter.keys.queue("default").prios)).toBe(0);
    } finally {
      await runtime.close();
    }
  });

  it("a retry rule naming another queue moves the job there (another slot): it runs there and leaves nothing behind", async () => {
    const adapter = freshAdapter();
    const runtime = configure({ adapter, jobs: [MovingJob], worker: { embedded: false, pollInterval: 50 } });
    const worker = new Worker({ runtime, queues: ["a", "b"], concurrency: 1 });
    try {
      const { jobId } = await MovingJob.set({ queue: "a" }).performLater();
      await worker.start();
      await waitFor(async () => (await MovingJob.status(jobId))?.state === "succeeded", { message: "the moved job to succeed" });
      const status = await MovingJob.status(jobId);
      expect(status).toMatchObject({ queue: "b", result: "b" });
      expect(await raw.hexists(adapter.keys.queue("a").jobs, jobId)).toBe(0);
      expect(await raw.zcard(adapter.keys.queue("a").active)).toBe(0);
    } finally {
      await worker.stop();
      await runtime.close();
    }
  });
});
