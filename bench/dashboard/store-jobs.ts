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
 * dead, over 6 queues (40/25/15/10/6/4 %) and four job classes (60/30/9/1 %), as
 * bench/dashboard/shape.ts has it, plus an hour of throughput from 60 beats. Each figure is one
 * warm-up and `--runs` timed calls, median; a page is 50 jobs. "Overview" is what the SQS
 * adapter's `listQueues` asks the store (figures of 6 queues, paused queues, 60 minutes of
 * throughput); SQS's own calls are not included. Prints the machine's load beside the figures.
 */
import { loadavg } from "node:os";

import { PostgresStatusStore } from "@errand/adapter-postgres";
import { RedisStatusStore } from "@errand/adapter-redis";
import type { JobPayload, JobState, ListJobsOptions, StatusStore, StatusStoreControl } from "@errand/core/adapter";
import pg from "pg";

import { connect, deleteKeys, freshPrefix, REDIS_URL } from "../redis/store.js";
import { countsLine, HOUR, hourOfBeats, job, PAGE, QUEUES, queueCounts, TIMEOUT_ERROR } from "./shape.js";
import { dashboardOptions, listed, time } from "./timing.js";

const PG_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const BATCH = 1000;

/** The command line: the common options, and `--store` to measure one store only. */
function args(): { scale: number; runs: number; stores: string[]; keep: boolean; reuse?: string } {
  let stores = ["redis", "postgres"];
  const common = dashboardOptions("node bench/dist/dashboard/store-jobs.js [--scale F] [--runs N] [--store redis|postgres] [--keep] [--reuse PREFIX|SCHEMA]", (flag, value) => {
    if (flag !== "--store") return false;
    stores = [value()];
    return true;
  });
  return { ...common, stores };
}

const reservation = (id: string) => ({ providerJobId: id, body: "" });

/** Writes each queue's share of every state through the store, as the SQS adapter would. */
async function build(store: StatusStore, scale: number): Promise<void> {
  const now = Date.now();
  let i = 0;
  for (const [queue, share] of QUEUES) {
    const n = queueCounts(share, scale);
    const wave = async (count: number, runAt: (k: number) => number, then?: (batch: JobPayload[], leases: string[]) => Promise<unknown>) => {
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
    await wave(n.dead, () => now, (batch, leases) => store.settled(batch.map((p, k) => ({ id: p.id, lease: leases[k]!, settlement: { reservation: reservation(p.id), outcome: "dead" as const, error: TIMEOUT_ERROR, payload: p } }))));
    await wave(n.retrying, () => now, (batch, leases) =>
      store.settled(batch.map((p, k) => {
        const runAt = new Date(now + HOUR + k);
        return { id: p.id, lease: leases[k]!, settlement: { reservation: reservation(p.id), outcome: "retry" as const, error: TIMEOUT_ERROR, runAt, payload: { ...p, executions: 1, runAt: runAt.toISOString() } } };
      })),
    );
    await wave(n.running, () => now, async () => undefined);
    await wave(n.ready, (k) => now - 60_000 + k);
    await wave(n.scheduled, (k) => now + HOUR + k * 1000);
    // The status stores list ready jobs as `queued`: so the lines say.
    process.stdout.write(countsLine(queue, n, "queued"));
  }
  const control = store.control!;
  await hourOfBeats((beat) => control.heartbeat(beat), "sqs", now);
}

async function measure(control: StatusStoreControl, runs: number): Promise<void> {
  const list = async (options: ListJobsOptions) => listed(await control.list(options));
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
        await deleteKeys(client, prefix, { hashTag: true });
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
