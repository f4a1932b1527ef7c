/**
 * The transactional outbox (issue 16): what a write costs a transaction, how fast the relay
 * moves jobs from the outbox (PostgreSQL) to Redis and to SQS, and the latency from the
 * app's COMMIT to the job stored in the target.
 *
 *   npm run bench:outbox
 *   node bench/dist/outbox/run.js --jobs 20000 --transactions 1000
 *
 * PostgreSQL: DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test (a schema of its own,
 * dropped at the end). Redis: REDIS_URL, else redis://127.0.0.1:6379 (a key prefix of its own,
 * deleted at the end). SQS: SQS_ENDPOINT, else a fauxqs emulator in this process (it then
 * shares this process's CPU with the relay: the SQS figures are a floor). The relay runs in
 * this process, as `errand relay` runs it. Prints a markdown table with the machine's load
 * and writes bench/results/outbox-latest.json.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import pg from "pg";

import { PostgresOutbox } from "@errand/adapter-postgres";
import { RedisAdapter } from "@errand/adapter-redis";
import { SqsAdapter } from "@errand/adapter-sqs";
import { Runtime, runOutboxRelay, type OutboxJob, type TransactionConnection } from "@errand/core";
import { uuidv7, type Adapter } from "@errand/core/adapter";

import { machineFacts } from "../lib/machine.js";
import { connect, deleteKeys, REDIS_URL } from "../redis/store.js";
import { CLIENT_CONFIG, deleteQueues, freshPrefix, openSqs, sqsClient } from "../sqs/store.js";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const RESULTS = join(BENCH_DIR, "results", "outbox-latest.json");

const { values: args } = parseArgs({ options: { jobs: { type: "string", default: "20000" }, transactions: { type: "string", default: "1000" }, latency: { type: "string", default: "200" } } });
const JOBS = Number(args.jobs);
const TRANSACTIONS = Number(args.transactions);
const LATENCY_SAMPLES = Number(args.latency);

function job(queue = "bench"): OutboxJob {
  const now = new Date().toISOString();
  return { adapter: undefined, payload: { v: 1, job: "BenchJob", id: uuidv7(), queue, priority: 0, args: { json: [1] }, executions: 0, enqueuedAt: now, runAt: now } };
}

function connection(client: pg.PoolClient): TransactionConnection {
  return { dialect: "postgres", library: "pg", query: (text, values) => client.query(text, values as unknown[]) };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * Median ms per transaction — BEGIN, one app row, 0, 1 or 10 outbox jobs, COMMIT — the three
 * kinds interleaved, so a change of the machine's load falls on all three alike.
 */
async function transactionCosts(pool: pg.Pool, outbox: PostgresOutbox, schema: string): Promise<{ none: number; one: number; ten: number }> {
  const client = await pool.connect();
  const kinds = [0, 1, 10] as const;
  const times: Record<(typeof kinds)[number], number[]> = { 0: [], 1: [], 10: [] };
  try {
    for (let t = 0; t < TRANSACTIONS; t++) {
      for (const jobsPerTx of kinds) {
        const started = performance.now();
        await client.query("BEGIN");
        await client.query(`INSERT INTO "${schema}".orders (total) VALUES ($1)`, [t]);
        if (jobsPerTx > 0) await outbox.write(connection(client), Array.from({ length: jobsPerTx }, () => job()));
        await client.query("COMMIT");
        times[jobsPerTx].push(performance.now() - started);
      }
    }
    const median = (values: number[]) => percentile(values.sort((a, b) => a - b), 0.5);
    return { none: median(times[0]), one: median(times[1]), ten: median(times[10]) };
  } finally {
    client.release();
  }
}

/** Fills the outbox with `JOBS` jobs (500 per transaction) on two queues. */
async function fill(pool: pg.Pool, outbox: PostgresOutbox): Promise<void> {
  const client = await pool.connect();
  try {
    for (let done = 0; done < JOBS; done += 500) {
      await client.query("BEGIN");
      await outbox.write(connection(client), Array.from({ length: Math.min(500, JOBS - done) }, (_, i) => job(i % 2 ? "a" : "b")));
      await client.query("COMMIT");
    }
  } finally {
    client.release();
  }
}

interface RelayFigures {
  jobsPerSecond: number;
  relayCpuPercent: number;
  latencyMs: { p50: number; p95: number; p99: number };
}

/** Relay throughput (a full outbox drained) and commit → target latency (one job per transaction). */
async function relayFigures(pool: pg.Pool, schema: string, adapter: Adapter): Promise<RelayFigures> {
  await pool.query(`TRUNCATE "${schema}".outbox`);
  const outbox = new PostgresOutbox({ url: DATABASE_URL, schema, batchSize: 500 });
  const runtime = new Runtime({ adapter, outbox, worker: { embedded: false } });
  await runtime.adapterFor(); // built before the clock starts
  await fill(pool, outbox);
  const controller = new AbortController();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const relaying = runOutboxRelay(runtime, { signal: controller.signal, onError: (error) => console.error("relay error:", error) });
  while ((await outbox.pending()) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  // Latency: one job per transaction, the next after the previous one arrived.
  const latencies: number[] = [];
  const client = await pool.connect();
  try {
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const arrived = new Promise<number>((resolve) => {
        const off = runtime.events.on("adapter:call", ({ operation }) => {
          if (operation !== "enqueue") return;
          off();
          resolve(performance.now());
        });
      });
      await client.query("BEGIN");
      await outbox.write(connection(client), [job("latency")]);
      await client.query("COMMIT");
      const committed = performance.now();
      latencies.push((await arrived) - committed);
    }
  } finally {
    client.release();
  }
  controller.abort();
  await relaying;
  await runtime.close();
  await outbox.close();
  latencies.sort((a, b) => a - b);
  return {
    jobsPerSecond: round(JOBS / seconds),
    relayCpuPercent: round(((used.user + used.system) / 1e6 / seconds) * 100),
    latencyMs: { p50: round(percentile(latencies, 0.5), 1), p95: round(percentile(latencies, 0.95), 1), p99: round(percentile(latencies, 0.99), 1) },
  };
}

async function main(): Promise<void> {
  const schema = `errand_bench_outbox_${process.pid}`;
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 3 });
  const redis = connect();
  const redisPrefix = `eb-outbox-${process.pid}`;
  const sqs = await openSqs();
  const sqsPrefix = freshPrefix("outbox");
  const loadBefore = loadavg();
  try {
    const outbox = new PostgresOutbox({ url: DATABASE_URL, schema });
    await outbox.pending(); // migrates
    await pool.query(`CREATE TABLE "${schema}".orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, total int NOT NULL)`);
    const cost = await transactionCosts(pool, outbox, schema);
    await outbox.close();
    const toRedis = await relayFigures(pool, schema, new RedisAdapter({ url: REDIS_URL, prefix: redisPrefix }));
    const toSqs = await relayFigures(pool, schema, new SqsAdapter({ endpoint: sqs.endpoint, clientConfig: CLIENT_CONFIG, queuePrefix: sqsPrefix }));
    const load = { before: loadBefore.map((n) => round(n, 2)), after: loadavg().map((n) => round(n, 2)) };
    const results = {
      machine: machineFacts(),
      load,
      sqs: sqs.description,
      jobs: JOBS,
      transactions: TRANSACTIONS,
      transactionMs: { withoutOutbox: round(cost.none, 3), oneJob: round(cost.one, 3), tenJobs: round(cost.ten, 3) },
      redis: toRedis,
      sqsRelay: toSqs,
    };
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`| figure | value |\n| --- | --- |`);
    console.log(`| transaction (median), no outbox write | ${results.transactionMs.withoutOutbox} ms |`);
    console.log(`| transaction + 1 outbox job | ${results.transactionMs.oneJob} ms (+${round(cost.one - cost.none, 3)} ms) |`);
    console.log(`| transaction + 10 outbox jobs | ${results.transactionMs.tenJobs} ms (+${round(cost.ten - cost.none, 3)} ms) |`);
    for (const [name, figures] of [["Redis", toRedis], ["SQS", toSqs]] as const) {
      console.log(`| relay → ${name}, ${JOBS} jobs | ${figures.jobsPerSecond} jobs/s (relay process CPU ${figures.relayCpuPercent}%) |`);
      console.log(`| commit → ${name}, p50 / p95 / p99 | ${figures.latencyMs.p50} / ${figures.latencyMs.p95} / ${figures.latencyMs.p99} ms |`);
    }
    console.log(`\nload average (1/5/15 min) before ${load.before.join(" ")}, after ${load.after.join(" ")}; ${results.machine.cpus} CPUs`);
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
    await deleteKeys(redis, redisPrefix).catch(() => undefined);
    redis.disconnect();
    const client = sqsClient(sqs.endpoint);
    await deleteQueues(client, sqsPrefix).catch(() => undefined);
    client.destroy();
    await sqs.stop();
  }
}

await main();
