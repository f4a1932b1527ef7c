/**
 * The status write path of the shared status stores (what the SQS adapter adds to each job it
 * drains): `enqueued`, `started`, `settled` (succeeded) for 20,000 jobs in batches of 100,
 * as an SQS drain calls them. Run before and after a change to the stores' write scripts or
 * statements, to see what the change costs per job.
 *
 *   npx tsc -b bench && node bench/dist/dashboard/status-writes.js [--jobs 20000] [--runs 5] [--store redis|postgres]
 *   node bench/dist/dashboard/status-writes.js --before /tmp/errand-before/packages   # A/B against another build
 *
 * With `--before DIR` (a directory holding another build's `adapter-redis/dist` and
 * `adapter-postgres/dist`, e.g. `git archive <commit> packages | tar -x` and `tsc -b`), each
 * run measures that build's store and this one's in turn, so both see the same load.
 *
 * Each run writes under a fresh Redis prefix / PostgreSQL schema, deleted at the end. The
 * figure is the median of the runs' wall time per job (client + server, one connection's
 * round trips in turn); the machine's load average is printed beside it, since the servers are
 * shared with other work.
 */
import { loadavg } from "node:os";

import { PostgresStatusStore } from "@errand/adapter-postgres";
import { RedisStatusStore } from "@errand/adapter-redis";
import { uuidv7, type JobPayload, type StatusStore } from "@errand/core/adapter";
import pg from "pg";

import { median } from "../lib/stats.js";
import { connect, deleteKeys, freshPrefix, REDIS_URL } from "../redis/store.js";

const PG_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const BATCH = 100;

function options(): { jobs: number; runs: number; stores: string[]; before?: string } {
  const argv = process.argv.slice(2);
  const out: { jobs: number; runs: number; stores: string[]; before?: string } = { jobs: 20_000, runs: 5, stores: ["redis", "postgres"] };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    if (flag === "--jobs") out.jobs = Number(argv[++i]);
    else if (flag === "--runs") out.runs = Number(argv[++i]);
    else if (flag === "--store") out.stores = [argv[++i]!];
    else if (flag === "--before") out.before = argv[++i]!;
    else throw new Error(`unknown option ${flag}; usage: node bench/dist/dashboard/status-writes.js [--jobs N] [--runs N] [--store redis|postgres]`);
  }
  return out;
}

function payload(i: number, now: number): JobPayload {
  return { v: 1, job: i % 3 === 0 ? "MailJob" : "ReportJob", id: uuidv7(), queue: `q${i % 4}`, priority: 0, args: { json: [i, "a few words of arguments"] }, executions: 0, enqueuedAt: new Date(now).toISOString(), runAt: new Date(now).toISOString() };
}

/** One run: µs per job for the three writes of every job. */
async function run(store: StatusStore, jobs: number): Promise<number> {
  const now = Date.now();
  const all = Array.from({ length: jobs }, (_, i) => payload(i, now));
  const start = performance.now();
  for (let at = 0; at < jobs; at += BATCH) {
    const batch = all.slice(at, at + BATCH);
    await store.enqueued(batch);
    const leases = batch.map((p) => ({ id: p.id, lease: `r-${p.id}` }));
    await store.started(leases);
    await store.settled(leases.map((l) => ({ ...l, settlement: { reservation: { providerJobId: l.id, body: "" }, outcome: "succeeded" as const, result: "1" } })));
  }
  return ((performance.now() - start) * 1000) / jobs;
}

type Stores = { RedisStatusStore: typeof RedisStatusStore; PostgresStatusStore: typeof PostgresStatusStore };

/** One run of `name` on a fresh prefix or schema of the given build's stores. */
async function runOnce(name: string, build: Stores, jobs: number): Promise<number> {
  if (name === "redis") {
    const prefix = freshPrefix("status");
    const store = new build.RedisStatusStore({ url: REDIS_URL, prefix });
    try {
      return await run(store, jobs);
    } finally {
      await store.close();
      const client = connect();
      await deleteKeys(client, prefix, { hashTag: true });
      client.disconnect();
    }
  }
  const schema = `bench_status_${Math.random().toString(36).slice(2, 10)}`;
  const store = new build.PostgresStatusStore({ url: PG_URL, schema });
  try {
    await store.get(["warm-up"]); // migrations, outside the timing
    return await run(store, jobs);
  } finally {
    await store.close();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA "${schema}" CASCADE`);
    await client.end();
  }
}

async function main(): Promise<void> {
  const { jobs, runs, stores, before } = options();
  const current: Stores = { RedisStatusStore, PostgresStatusStore };
  const other: Stores | undefined = before
    ? {
        RedisStatusStore: ((await import(`${before}/adapter-redis/dist/index.js`)) as Stores).RedisStatusStore,
        PostgresStatusStore: ((await import(`${before}/adapter-postgres/dist/index.js`)) as Stores).PostgresStatusStore,
      }
    : undefined;
  for (const name of stores) {
    const figures: number[] = [];
    const earlier: number[] = [];
    for (let r = 0; r < runs; r += 1) {
      if (other) earlier.push(await runOnce(name, other, jobs));
      figures.push(await runOnce(name, current, jobs));
    }
    const load = loadavg().map((l) => l.toFixed(1)).join(" ");
    const line = (label: string, xs: number[]) => `${median(xs).toFixed(1)} µs per job${label} (runs: ${xs.map((f) => f.toFixed(1)).join(", ")})`;
    const parts = [line("", figures), ...(other ? [line(" before", earlier)] : [])];
    process.stdout.write(`${name}: ${parts.join("; ")}; ${jobs} jobs, batches of ${BATCH}; load ${load}\n`);
  }
}

await main();
