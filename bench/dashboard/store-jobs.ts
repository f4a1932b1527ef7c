/**
 * Issue 15's dashboard bench for SQS: what an operator's pages cost with 1,000,000 statuses in
 * a shared status store (the SQS adapter's operator view, `StatusStore.control`).
 *
 *   npx tsc -b bench && node bench/dist/dashboard/store-jobs.js                  # both stores, 1M, median of 5
 *   node bench/dist/dashboard/store-jobs.js --store redis --scale 0.1 --runs 3  # 100k: a quick look
 *   node bench/dist/dashboard/store-jobs.js --store postgres --keep             # leave the schema (prints it)
 *   node bench/dist/dashboard/store-jobs.js --store postgres --reuse bench_…    # measure a kept prefix / schema again
 *
 * The statuses go in through the store itself, as the SQS adapter writes them (enqueued,
 * started, settled; batches of 1,000), under a fresh Redis prefix / PostgreSQL schema deleted
 * at the end: 900k succeeded, 50k queued, 30k scheduled, 10k running, 5k retrying and 5k
 * dead, over 6 queues (40/25/15/10/6/4 %) and four job classes (60/30/9/1 %), as in
 * bench/dashboard/redis.ts, plus an hour of throughput from 60 beats. Each figure is one
 * warm-up and `--runs` timed calls, median; a page is 50 jobs. "Overview" is what the SQS
 * adapter's `listQueues` asks the store (figures of 6 queues, paused queues, 60 minutes of
 * throughput); SQS's own calls are not included. Prints the machine's load beside the figures.
 */
import { loadavg } from "node:os";

import { PostgresStatusStore } from "@errand/adapter-postgres";
import { RedisStatusStore } from "@errand/adapter-redis";
import { uuidv7, type JobPayload, type JobState, type ListJobsOptions, type StatusStore, type StatusStoreControl } from "@errand/core/adapter";
import pg from "pg";

import { median } from "../lib/stats.js";
import { connect, freshPrefix, REDIS_URL } from "../redis/store.js";

const PG_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const QUEUES = [["mail", 0.4], ["reports", 0.25], ["exports", 0.15], ["webhooks", 0.1], ["billing", 0.06], ["audit", 0.04]] as const;
const CLASSES = [["ReportJob", 60], ["MailJob", 30], ["ExportJob", 9], ["AuditJob", 1]] as const;
const STATES = { succeeded: 900_000, dead: 5_000, retrying: 5_000, running: 10_000, queued: 50_000, scheduled: 30_000 };
const PAGE = 50;
const HOUR = 3_600_000;
const BATCH = 1000;

function args(): { scale: number; runs: number; stores: string[]; keep: boolean; reuse?: string } {
  const argv = process.argv.slice(2);
  const out: { scale: number; runs: number; stores: string[]; keep: boolean; reuse?: string } = { scale: 1, runs: 5, stores: ["redis", "postgres"], keep: false };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    if (flag === "--scale") out.scale = Number(argv[++i]);
    else if (flag === "--runs") out.runs = Number(argv[++i]);
    else if (flag === "--store") out.stores = [argv[++i]!];
    else if (flag === "--keep") out.keep = true;
    else if (flag === "--reuse") out.reuse = argv[++i]!;
    else throw new Error(`unknown option ${flag}; usage: node bench/dist/dashboard/store-jobs.js [--scale F] [--runs N] [--store redis|postgres] [--keep] [--reuse PREFIX|SCHEMA]`);
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
  return { v: 1, job: classOf(i), id: uuidv7(), queue, priority: 0, args: { json: [i, "a few words of arguments"] }, executions: 0, enqueuedAt: new Date(now).toISOString(), runAt: new Date(runAt).toISOString() };
}

const reservation = (id: string) => ({ providerJobId: id, body: "" });
const error = { name: "ApiTimeoutError", message: "the API did not answer within 30 s", stack: "ApiTimeoutError: the API did not answer\n    at perform (jobs/report.ts:12:11)" };

/** Writes each queue's share of every state through the store, as the SQS adapter would. */
async function build(store: StatusStore, scale: number): Promise<void> {
  const now = Date.now();
  let i = 0;
  for (const [queue, share] of QUEUES) {
    const n = Object.fromEntries(Object.entries(STATES).map(([state, count]) => [state, Math.round(count * share * scale)])) as Record<keyof typeof STATES, number>;
    const wave = async (count: number, runAt: (k: number) => number, then?: (batch: JobPayload[], leases: string[]) => Promise<void>) => {
      for (let done = 0; done < count; done += BATCH) {
        // `runAt` takes the job's place in its wave; `i` spreads the classes over every wave.
        const batch = Array.from({ length: Math.min(BATCH, count - done) }, (_, k) => job(queue, i++, runAt(done + k), now));
        await store.enqueued(batch);
        if (!then) continue;
        const leases = batch.map((p) => `r-${p.id}`);
        await store.started(batch.map((p, k) => ({ id: p.id, lease: leases[k]! })));
        await then(batch, leases);
      }
    };
    await wave(n.succeeded, () => now, (batch, leases) => store.settled(batch.map((p, k) => ({ id: p.id, lease: leases[k]!, settlement: { reservation: reservation(p.id), outcome: "succeeded" as const, result: "1" } }))));
    await wave(n.dead, () => now, (batch, leases) => store.settled(batch.map((p, k) => ({ id: p.id, lease: leases[k]!, settlement: { reservation: reservation(p.id), outcome: "dead" as const, error, payload: p } }))));
    await wave(n.retrying, () => now, (batch, leases) =>
      store.settled(batch.map((p, k) => {
        const runAt = new Date(now + HOUR + k);
        return { id: p.id, lease: leases[k]!, settlement: { reservation: reservation(p.id), outcome: "retry" as const, error, runAt, payload: { ...p, executions: 1, runAt: runAt.toISOString() } } };
      })),
    );
    await wave(n.running, () => now, async () => undefined);
    await wave(n.queued, (k) => now - 60_000 + k);
    await wave(n.scheduled, (k) => now + HOUR + k * 1000);
    process.stdout.write(`  ${queue}: ${Object.entries(n).map(([state, count]) => `${count} ${state}`).join(", ")}\n`);
  }
  const control = store.control!;
  for (let m = 59; m >= 0; m -= 1) {
    await control.heartbeat({
      worker: { id: "bench-worker", host: "bench", pid: process.pid, adapter: "sqs", queues: "*", concurrency: 20, startedAt: new Date(now - HOUR), running: [] },
      at: new Date(now - m * 60_000),
      ttlMs: 5000,
      finished: QUEUES.map(([queue], q) => ({ queue, succeeded: 1000 + q * 100 + m, failed: m % 7 })),
    });
  }
}

async function time(name: string, runs: number, call: () => Promise<{ jobs: number; next: boolean }>): Promise<void> {
  await call();
  const ms: number[] = [];
  let last = { jobs: 0, next: false };
  for (let run = 0; run < runs; run += 1) {
    const start = performance.now();
    last = await call();
    ms.push(performance.now() - start);
  }
  process.stdout.write(`  ${name}: ${median(ms).toFixed(1)} ms (min ${Math.min(...ms).toFixed(1)}, max ${Math.max(...ms).toFixed(1)}), ${last.jobs} jobs${last.next ? ", next" : ""}\n`);
}

async function measure(control: StatusStoreControl, runs: number): Promise<void> {
  const list = async (options: ListJobsOptions) => {
    const page = await control.list(options);
    return { jobs: page.jobs.length, next: page.next !== undefined };
  };
  const names = QUEUES.map(([queue]) => queue);
  await time("overview: figures of 6 queues + paused + 60 min throughput", runs, async () => {
    const [figures] = await Promise.all([control.figures(names), control.state(60)]);
    return { jobs: figures.length, next: false };
  });
  await time("queued of one queue, first page", runs, () => list({ state: "queued", queue: "reports", limit: PAGE }));
  await time("queued of class AuditJob (1 %), first page", runs, () => list({ state: "queued", job: "AuditJob", limit: PAGE }));
  await time("queued, every queue, first page", runs, () => list({ state: "queued", limit: PAGE }));
  const succeeded = { state: "succeeded" as JobState, limit: PAGE };
  await time("succeeded newest first, first page", runs, () => list(succeeded));
  let cursor: string | undefined;
  for (let p = 1; p < 200; p += 1) cursor = (await control.list(cursor === undefined ? succeeded : { ...succeeded, cursor })).next;
  await time("succeeded newest first, page 200 by cursor", runs, () => list({ ...succeeded, cursor: cursor! }));
  await time("succeeded of class AuditJob (1 %) in queue audit, first page", runs, () => list({ state: "succeeded", queue: "audit", job: "AuditJob", limit: PAGE }));
  await time("dead of one queue, first page", runs, () => list({ state: "dead", queue: "mail", limit: PAGE }));
  await time("scheduled soonest first, first page", runs, () => list({ state: "scheduled", limit: PAGE }));
  await time("retrying soonest first, first page", runs, () => list({ state: "retrying", limit: PAGE }));
  await time("running by id, first page", runs, () => list({ state: "running", limit: PAGE }));
  const ids = (await control.list({ state: "dead", limit: PAGE })).jobs.map((j) => j.id);
  await time("50 jobs by id", runs, () => list({ ids }));
}

async function main(): Promise<void> {
  const { scale, runs, stores, keep, reuse } = args();
  for (const name of stores) {
    process.stdout.write(`${name} status store, ${Math.round(1_000_000 * scale)} statuses:\n`);
    const prefix = reuse ?? freshPrefix("store-jobs");
    const schema = reuse ?? `bench_store_jobs_${Math.random().toString(36).slice(2, 10)}`;
    const store: StatusStore = name === "redis" ? new RedisStatusStore({ url: REDIS_URL, prefix }) : new PostgresStatusStore({ url: PG_URL, schema });
    try {
      const began = performance.now();
      if (!reuse) await build(store, scale);
      process.stdout.write(`  written in ${((performance.now() - began) / 1000).toFixed(0)} s (load ${loadavg().map((l) => l.toFixed(1)).join(" ")})${keep ? `; kept: --reuse ${name === "redis" ? prefix : schema}` : ""}\n`);
      if (name === "postgres" && !reuse) {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`VACUUM ANALYZE "${schema}".statuses`);
        await client.end();
      }
      await measure(store.control!, runs);
      process.stdout.write(`  measured at load ${loadavg().map((l) => l.toFixed(1)).join(" ")}\n`);
    } finally {
      await store.close();
      if (keep || reuse) continue;
      if (name === "redis") {
        const client = connect();
        let cursor = "0";
        do {
          const [next, keys] = await client.scan(cursor, "MATCH", `{${prefix}}:*`, "COUNT", 1000);
          cursor = next;
          if (keys.length > 0) await client.unlink(...keys);
        } while (cursor !== "0");
        client.disconnect();
      } else {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      }
    }
  }
}

await main();
