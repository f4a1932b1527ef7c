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
import type { JobPayload, JobState, ListJobsOptions, Reservation } from "@errand/core/adapter";
import { uuidv7 } from "@errand/core/adapter";

import { machineFacts } from "../lib/machine.js";
import { BENCH_DIR } from "../lib/profile.js";
import { median } from "../lib/stats.js";
import { connect, deleteKeys, freshPrefix, REDIS_URL } from "../redis/store.js";

const QUEUES = [["mail", 0.4], ["reports", 0.25], ["exports", 0.15], ["webhooks", 0.1], ["billing", 0.06], ["audit", 0.04]] as const;
/** Job classes by share, spread over every state (every 100 jobs: 60, 30, 9, 1). */
const CLASSES = [["ReportJob", 60], ["MailJob", 30], ["ExportJob", 9], ["AuditJob", 1]] as const;
const STATES = { succeeded: 900_000, dead: 5_000, retrying: 5_000, running: 10_000, ready: 50_000, scheduled: 30_000 };
const PAGE = 50;
const HOUR = 3_600_000;

function args(): { scale: number; runs: number; keep: boolean; reuse?: string } {
  const argv = process.argv.slice(2);
  const out: { scale: number; runs: number; keep: boolean; reuse?: string } = { scale: 1, runs: 5, keep: false };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    if (flag === "--scale") out.scale = Number(argv[++i]);
    else if (flag === "--runs") out.runs = Number(argv[++i]);
    else if (flag === "--keep") out.keep = true;
    else if (flag === "--reuse") out.reuse = argv[++i]!;
    else throw new Error(`unknown option ${flag}; usage: node bench/dist/dashboard/redis.js [--scale F] [--runs N] [--keep] [--reuse PREFIX]`);
  }
  if (!(out.scale > 0 && out.scale <= 1) || !Number.isInteger(out.runs) || out.runs < 1) throw new Error("--scale is in (0, 1], --runs a positive integer");
  return out;
}

function classOf(i: number): string {
  let slot = i % 100;
  for (const [name, share] of CLASSES) {
    if (slot < share) return name;
    slot -= share;
  }
  return CLASSES[0][0];
}

function job(queue: string, i: number, runAt: number, now: number): JobPayload {
  return { v: 1, job: classOf(i), id: uuidv7(), queue, priority: i % 10 === 0 ? 5 : 0, args: { json: [i, "a few words of arguments"] }, executions: 0, enqueuedAt: new Date(now).toISOString(), runAt: new Date(runAt).toISOString() };
}

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
    const n = Object.fromEntries(Object.entries(STATES).map(([state, count]) => [state, Math.round(count * share * scale)])) as Record<keyof typeof STATES, number>;
    const enqueue = async (from: number, count: number, runAt: (i: number) => number) => {
      for (let start = from; start < from + count; start += 5000) {
        await adapter.enqueue({ jobs: Array.from({ length: Math.min(5000, from + count - start) }, (_, k) => job(queue, start + k, runAt(start + k), now)) });
      }
    };
    // What will have run first (reserves take priority 5 after 0: the ready ones go in after).
    const ran = n.succeeded + n.dead + n.retrying + n.running;
    await enqueue(0, ran, () => now);
    await take(adapter, queue, n.succeeded, (batch) => adapter.settle({ settlements: batch.map((reservation) => ({ reservation, outcome: "succeeded" as const, result: "{\"json\":1}" })) }));
    const error = { name: "ApiTimeoutError", message: "the API did not answer within 30 s", stack: "ApiTimeoutError: the API did not answer\n    at perform (jobs/report.ts:12:11)" };
    await take(adapter, queue, n.dead, (batch) => adapter.settle({ settlements: batch.map((reservation) => ({ reservation, outcome: "dead" as const, error })) }));
    await take(adapter, queue, n.retrying, (batch) =>
      adapter.settle({
        settlements: batch.map((reservation) => {
          const payload = { ...(JSON.parse(reservation.body) as JobPayload), executions: 1 };
          const runAt = new Date(Date.now() + HOUR);
          return { reservation, outcome: "retry" as const, error, runAt, payload: { ...payload, runAt: runAt.toISOString() } };
        }),
      }),
    );
    await take(adapter, queue, n.running);
    await enqueue(ran, n.ready, () => now);
    await enqueue(ran + n.ready, n.scheduled, (i) => now + HOUR + i * 1000);
    process.stdout.write(`  ${queue}: ${Object.entries(n).map(([state, count]) => `${count} ${state}`).join(", ")}\n`);
  }
  // An hour of throughput: one beat per minute, every queue.
  for (let m = 59; m >= 0; m -= 1) {
    await adapter.heartbeat({
      worker: { id: "bench-worker", host: "bench", pid: process.pid, adapter: "redis", queues: "*", concurrency: 20, startedAt: new Date(now - HOUR), running: [] },
      at: new Date(now - m * 60_000),
      ttlMs: 5000,
      finished: QUEUES.map(([queue], q) => ({ queue, succeeded: 1000 + q * 100 + m, failed: m % 7 })),
    });
  }
}

interface Timing {
  name: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** What the last call gave. */
  jobs: number;
  next: boolean;
}

async function time(name: string, runs: number, call: () => Promise<{ jobs: number; next: boolean }>): Promise<Timing> {
  await call();
  const ms: number[] = [];
  let last = { jobs: 0, next: false };
  for (let run = 0; run < runs; run += 1) {
    const start = performance.now();
    last = await call();
    ms.push(performance.now() - start);
  }
  const timing = { name, medianMs: median(ms), minMs: Math.min(...ms), maxMs: Math.max(...ms), ...last };
  process.stdout.write(`  ${name}: ${timing.medianMs.toFixed(1)} ms (min ${timing.minMs.toFixed(1)}, max ${timing.maxMs.toFixed(1)}), ${timing.jobs} jobs${timing.next ? ", next" : ""}\n`);
  return timing;
}

/** The cursor of page `page` (1 = the first) of a listing, following `next`. */
async function cursorAt(adapter: RedisAdapter, options: Extract<ListJobsOptions, { state: JobState }>, page: number): Promise<string | undefined> {
  let cursor: string | undefined;
  for (let p = 1; p < page; p += 1) {
    cursor = (await adapter.listJobs(cursor === undefined ? options : { ...options, cursor })).next;
    if (cursor === undefined) break;
  }
  return cursor;
}

/** Every page of a listing: how many calls and ms it took to walk it all, and the jobs found. */
async function walkAll(adapter: RedisAdapter, options: Extract<ListJobsOptions, { state: JobState }>): Promise<{ calls: number; ms: number; jobs: number; slowestMs: number }> {
  let cursor: string | undefined;
  let calls = 0;
  let jobs = 0;
  let slowestMs = 0;
  const start = performance.now();
  do {
    const began = performance.now();
    const page = await adapter.listJobs(cursor === undefined ? options : { ...options, cursor });
    slowestMs = Math.max(slowestMs, performance.now() - began);
    calls += 1;
    jobs += page.jobs.length;
    cursor = page.next;
  } while (cursor !== undefined);
  return { calls, ms: performance.now() - start, jobs, slowestMs };
}

async function measure(adapter: RedisAdapter, runs: number): Promise<{ timings: Timing[]; walks: Record<string, unknown> }> {
  const list = async (options: ListJobsOptions) => {
    const page = await adapter.listJobs(options);
    return { jobs: page.jobs.length, next: page.next !== undefined };
  };
  const timings: Timing[] = [];
  const t = async (name: string, call: () => Promise<{ jobs: number; next: boolean }>) => timings.push(await time(name, runs, call));
  await t("overview: listQueues, throughput 60 min", async () => ({ jobs: (await adapter.listQueues({ throughputMinutes: 60 })).length, next: false }));
  const dead = { state: "dead", queue: "mail", limit: PAGE } as const;
  await t("dead of one queue, first page", () => list(dead));
  const deadPages = Math.floor((await adapter.listQueues({})).find((q) => q.name === "mail")!.dead / PAGE);
  const deadDeep = await cursorAt(adapter, dead, deadPages);
  await t(`dead of one queue, page ${deadPages} by cursor`, () => list({ ...dead, cursor: deadDeep! }));
  await t("dead, every queue, first page", () => list({ state: "dead", limit: PAGE }));
  await t("queued of class MailJob (30 %), first page", () => list({ state: "queued", job: "MailJob", limit: PAGE }));
  await t("queued of class AuditJob (1 %), first page", () => list({ state: "queued", job: "AuditJob", limit: PAGE }));
  await t("queued of one queue, first page", () => list({ state: "queued", queue: "reports", limit: PAGE }));
  const succeeded = { state: "succeeded", limit: PAGE } as const;
  await t("succeeded newest first, first page", () => list(succeeded));
  const deep = await cursorAt(adapter, succeeded, 200);
  await t("succeeded newest first, page 200 by cursor", () => list({ ...succeeded, cursor: deep! }));
  await t("succeeded of class AuditJob (1 %), first page", () => list({ state: "succeeded", job: "AuditJob", limit: PAGE }));
  await t("scheduled soonest first, first page", () => list({ state: "scheduled", limit: PAGE }));
  await t("retrying soonest first, first page", () => list({ state: "retrying", limit: PAGE }));
  await t("running by id, first page", () => list({ state: "running", limit: PAGE }));
  const someIds = (await adapter.listJobs({ state: "dead", limit: PAGE })).jobs.map((j) => j.id);
  await t("50 jobs by id", () => list({ ids: someIds }));
  const walks = {
    "queued of class AuditJob, every page": await walkAll(adapter, { state: "queued", job: "AuditJob", limit: PAGE }),
    "succeeded of class AuditJob in queue audit, every page": await walkAll(adapter, { state: "succeeded", queue: "audit", job: "AuditJob", limit: PAGE }),
    "succeeded of a class no job has, in queue mail (the whole list), every page": await walkAll(adapter, { state: "succeeded", queue: "mail", job: "NoSuchJob", limit: PAGE }),
  };
  for (const [name, walk] of Object.entries(walks)) process.stdout.write(`  ${name}: ${JSON.stringify(walk)}\n`);
  return { timings, walks };
}

async function main(): Promise<void> {
  const options = args();
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
    const { timings, walks } = await measure(adapter, options.runs);
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
