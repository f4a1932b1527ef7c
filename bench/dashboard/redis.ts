/**
 * Issue 15's dashboard bench on Redis: what an operator's pages cost with 1,000,000 jobs
 * stored.
 *
 *   npx tsc -b bench && node bench/dist/dashboard/redis.js              # 1M jobs, median of 5
 *   node bench/dist/dashboard/redis.js --scale 0.1 --runs 3             # 100k jobs: a quick look
 *   node bench/dist/dashboard/redis.js --keep                           # leave the keys (prints the prefix)
 *   node bench/dist/dashboard/redis.js --reuse errand-bench-dash-…      # measure a kept prefix again
 *
 * The jobs go in through the adapter itself (enqueue, reserve, settle), under a key prefix of
 * its own on the shared server (REDIS_URL, else redis://127.0.0.1:6379), deleted at the end
 * (SCAN + UNLINK of that prefix only): 900k succeeded, 50k ready, 30k scheduled, 10k running,
 * 5k retrying and 5k dead, over 6 queues (40/25/15/10/6/4 %), of four job classes (60/30/9/1 %),
 * and an hour of throughput counters from 60 beats. Then each listing is timed, one warm-up
 * and `--runs` timed calls, median; the page is 50 jobs. Writes
 * bench/results/dashboard-redis-latest.json (a `--scale` or `--runs` run: …latest.partial.json).
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";

import { RedisAdapter } from "@errand/adapter-redis";
import type { JobPayload, Reservation } from "@errand/core/adapter";

import { machineFacts } from "../lib/machine.js";
import { BENCH_DIR } from "../lib/profile.js";
import { connect, deleteKeys, freshPrefix, REDIS_URL } from "../redis/store.js";
import { timeListings } from "./listings.js";
import { countsLine, HOUR, hourOfBeats, job, priorityOf, QUEUES, queueCounts, TIMEOUT_ERROR } from "./shape.js";
import { dashboardOptions } from "./timing.js";

/** Reserves `count` jobs of `queue` in batches and hands each batch to `then` (or keeps them leased). */
async function take(adapter: RedisAdapter, queue: string, count: number, then?: (batch: Reservation[]) => Promise<void>): Promise<void> {
  for (let left = count; left > 0; ) {
    const batch = await adapter.reserve({ queues: [queue], max: Math.min(left, 1000), leaseMs: 6 * HOUR, waitMs: 0, workerId: "bench" });
    if (batch.length === 0) throw new Error(`queue ${queue} ran out of ready jobs with ${left} to take`);
    left -= batch.length;
    if (then) await then(batch);
  }
}

/** Stores the jobs through the adapter: each queue's share of every state. */
async function build(adapter: RedisAdapter, scale: number): Promise<void> {
  const now = Date.now();
  for (const [queue, share] of QUEUES) {
    const n = queueCounts(share, scale);
    const enqueue = async (from: number, count: number, runAt: (i: number) => number) => {
      for (let start = from; start < from + count; start += 5000) {
        await adapter.enqueue({ jobs: Array.from({ length: Math.min(5000, from + count - start) }, (_, k) => job(queue, start + k, runAt(start + k), now, priorityOf(start + k))) });
      }
    };
    // What will have run first (reserves take priority 5 after 0: the ready ones go in after).
    const ran = n.succeeded + n.dead + n.retrying + n.running;
    await enqueue(0, ran, () => now);
    await take(adapter, queue, n.succeeded, (batch) => adapter.settle({ settlements: batch.map((reservation) => ({ reservation, outcome: "succeeded" as const, result: "{\"json\":1}" })) }));
    await take(adapter, queue, n.dead, (batch) => adapter.settle({ settlements: batch.map((reservation) => ({ reservation, outcome: "dead" as const, error: TIMEOUT_ERROR })) }));
    await take(adapter, queue, n.retrying, (batch) =>
      adapter.settle({
        settlements: batch.map((reservation) => {
          const payload = { ...(JSON.parse(reservation.body) as JobPayload), executions: 1 };
          const runAt = new Date(Date.now() + HOUR);
          return { reservation, outcome: "retry" as const, error: TIMEOUT_ERROR, runAt, payload: { ...payload, runAt: runAt.toISOString() } };
        }),
      }),
    );
    await take(adapter, queue, n.running);
    await enqueue(ran, n.ready, () => now);
    await enqueue(ran + n.ready, n.scheduled, (i) => now + HOUR + i * 1000);
    process.stdout.write(countsLine(queue, n));
  }
  // An hour of throughput: one beat per minute, every queue.
  await hourOfBeats((beat) => adapter.heartbeat(beat), "redis", now);
}

async function main(): Promise<void> {
  const options = dashboardOptions("node bench/dist/dashboard/redis.js [--scale F] [--runs N] [--keep] [--reuse PREFIX]");
  const prefix = options.reuse ?? freshPrefix("dash");
  const adapter = new RedisAdapter({ url: REDIS_URL, prefix, maxFinished: 10_000_000, retentionMs: 7 * 24 * HOUR });
  const raw = connect();
  const load = { before: loadavg() };
  let buildMs = 0;
  try {
    if (!options.reuse) {
      process.stdout.write(`storing ${Math.round(1_000_000 * options.scale)} jobs under ${prefix}\n`);
      const start = performance.now();
      await build(adapter, options.scale);
      buildMs = performance.now() - start;
      process.stdout.write(`stored in ${(buildMs / 1000).toFixed(1)} s\n`);
    }
    const { timings, walks } = await timeListings(adapter, options.runs);
    const full = options.scale === 1 && options.runs === 5 && !options.reuse;
    const file = join(BENCH_DIR, "results", full ? "dashboard-redis-latest.json" : "dashboard-redis-latest.partial.json");
    const memory = (await raw.info("memory")).match(/used_memory_human:(\S+)/)?.[1];
    writeFileSync(file, `${JSON.stringify({ machine: machineFacts(), load: { ...load, after: loadavg() }, scale: options.scale, runs: options.runs, buildMs, redisUsedMemory: memory, timings, walks }, null, 2)}\n`);
    process.stdout.write(`load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}; wrote ${file}\n`);
  } finally {
    await adapter.close();
    if (options.keep) process.stdout.write(`kept the keys under ${prefix}\n`);
    else process.stdout.write(`deleted ${await deleteKeys(raw, prefix)} keys\n`);
    raw.disconnect();
  }
}

await main();
