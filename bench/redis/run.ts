/**
 * Errand-redis and BullMQ, one after another on the same Redis.
 *
 *   npm run bench:redis                                # 3 runs per figure (median)
 *   node bench/dist/redis/run.js --runs 1              # quicker (partial)
 *   node bench/dist/redis/run.js --only drain          # groups: enqueue, drain, latency
 *   node bench/dist/redis/run.js --libraries errand
 *   node bench/dist/redis/run.js --drain-jobs 5000
 *   node bench/dist/redis/run.js --tune '{"bullmq":{"autoPipelining":true}}'
 *
 * Every (figure, run, library) is one fresh `node --expose-gc` child, which opens its
 * library under a key prefix of its own and deletes that prefix's keys when it ends (the
 * server is shared: nothing is ever flushed). The runs of a figure take turns between the
 * libraries. A figure is the median of its runs. Prints a markdown table with Errand's
 * ratio to BullMQ and the goals, and writes bench/results/redis-latest.json (a partial run:
 * redis-latest.partial.json). Uses REDIS_URL, else redis://127.0.0.1:6379.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { reply, runChild } from "../lib/child.js";
import { parseCompareArgs, runComparison, standardFigures, type CompareOptions, type FigureSpec, type GoalSpec } from "../lib/compare.js";
import { errandUnavailable } from "../lib/errand.js";
import { BENCH_DIR } from "../lib/profile.js";
import type { Scenario } from "../lib/scenarios.js";
import { BULLMQ_VERSION, LIBRARIES, type LibraryName, type Tuning } from "./libraries.js";
import { measure, type ChildParams, type Measurement } from "./scenarios.js";
import { connect, deleteKeys, freshPrefix, info, REDIS_URL } from "./store.js";

const SELF = fileURLToPath(import.meta.url);
const RESULTS = join(BENCH_DIR, "results", "redis-latest.json");
const DEFAULT_DRAIN_JOBS = 20_000;
const FULL_RUNS = 3;

/**
 * Runs one measurement in a fresh child under a fresh key prefix. Should the child die
 * before its own clean-up, the prefix's keys are deleted from here.
 */
export async function inChild(params: Omit<ChildParams, "prefix"> & { prefix?: string }, execArgv: string[] = []): Promise<Measurement> {
  const full: ChildParams = { ...params, prefix: params.prefix ?? freshPrefix(params.library) };
  try {
    return await runChild<Measurement>(SELF, ["--child", JSON.stringify(full)], execArgv, `${full.library} ${JSON.stringify(full.scenario)}`);
  } catch (error) {
    const client = connect(full.url);
    try {
      await deleteKeys(client, full.prefix);
    } finally {
      client.disconnect();
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------
// What is measured: the figures shared with the PostgreSQL bench (../lib/compare.ts), and
// the CPU each drain costs per job.

function figureSpecs(drainJobs: number): FigureSpec[] {
  // Both libraries are woken by Redis, none polls: the caps only keep a stuck library from
  // holding up the whole run (a capped drain is reported with *).
  const figures = standardFigures(drainJobs, { drainWarmup: 300, drainCapMs: 30_000, latencyCapMs: 10_000 });
  const drains = figures.filter((f) => f.key.startsWith("drain."));
  const cpu = (read: keyof Measurement, key: string, what: string) =>
    drains.map((d) => ({
      ...d,
      key: `${key}.${d.key}`,
      figure: `${what}, drain concurrency ${(d.scenario as Extract<Scenario, { kind: "drain" }>).concurrency}`,
      unit: "µs",
      higherIsBetter: false,
      read,
    }));
  return [...figures, ...cpu("nodeCpuUsPerJob", "cpu", "CPU per job, worker process"), ...cpu("redisCpuUsPerJob", "redisCpu", "CPU per job, redis-server")];
}

const USAGE = "usage: node bench/dist/redis/run.js [--runs N] [--only enqueue,drain,latency] [--libraries errand,bullmq] [--drain-jobs N] [--tune JSON]";

const GOALS: GoalSpec<LibraryName>[] = [
  ...[1, 10, 50].map((c) => ({ goal: `drain c=${c} ≥ 1.5× BullMQ`, key: `drain.c${c}`, peer: "bullmq" as const, atLeast: 1.5 })),
  { goal: "bulk enqueue ≥ 1.5× BullMQ", key: "enqueue.bulk", peer: "bullmq", atLeast: 1.5 },
  { goal: "single enqueue, sequential ≥ 1.5× BullMQ", key: "enqueue.sequential", peer: "bullmq", atLeast: 1.5 },
  { goal: "single enqueue, 32 in flight ≥ 1.5× BullMQ", key: "enqueue.inflight32", peer: "bullmq", atLeast: 1.5 },
  { goal: "enqueue → start p50 ≤ BullMQ's", key: "latency.p50", peer: "bullmq", atMost: 1 },
];

// ---------------------------------------------------------------------------------------
// Parent.

/** The server's version and settings that change the figures, for the JSON; fails early when Redis is not there. */
async function describeServer(): Promise<Record<string, unknown>> {
  const client = connect();
  try {
    const server = await info(client, "server");
    // Persistence costs the server time on every write: AOF per command, RDB snapshots now and then.
    const [, appendonly] = (await client.config("GET", "appendonly")) as string[];
    const [, save] = (await client.config("GET", "save")) as string[];
    return { redis: { version: server.get("redis_version"), url: REDIS_URL.replace(/\/\/[^@/]*@/, "//"), appendonly, save } };
  } catch (error) {
    throw new Error(`cannot reach Redis at ${REDIS_URL} (set REDIS_URL): ${(error as Error).message}`);
  } finally {
    client.disconnect();
  }
}

async function main(options: CompareOptions<LibraryName>): Promise<void> {
  const environment = await describeServer();
  await runComparison<LibraryName, Measurement>(options, {
    title: `Errand-redis vs BullMQ ${BULLMQ_VERSION}`,
    libraries: LIBRARIES,
    ratios: [{ peer: "bullmq", label: "errand/bullmq" }],
    errandMissing: options.libraries.includes("errand") ? await errandUnavailable("@errand/adapter-redis") : undefined,
    figures: figureSpecs(options.drainJobs),
    measure: (library, scenario, tuning: Tuning | undefined) => inChild({ library, scenario, url: REDIS_URL, ...(tuning ? { tuning } : {}) }),
    footnote: "↑ higher is better, ↓ lower is better; ratios are errand ÷ bullmq. * the drain was cut at its time cap (30 s): the rate reached until then.",
    goals: GOALS,
    versions: { bullmq: BULLMQ_VERSION },
    environment,
    results: RESULTS,
    fullRuns: FULL_RUNS,
    defaultDrainJobs: DEFAULT_DRAIN_JOBS,
  });
}

if (process.argv[2] === "--child") {
  await reply(await measure(JSON.parse(process.argv[3]!) as ChildParams));
} else if (process.argv[1] === SELF) {
  await main(parseCompareArgs(process.argv.slice(2), LIBRARIES, USAGE, DEFAULT_DRAIN_JOBS));
}
