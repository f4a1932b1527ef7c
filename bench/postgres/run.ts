/**
 * Errand-postgres, graphile-worker and pg-boss, one after another on the same database.
 *
 *   npm run bench:postgres                              # 3 runs per figure (median), ~5 min
 *   node bench/dist/postgres/run.js --runs 1            # quicker
 *   node bench/dist/postgres/run.js --batch 500         # the same-batch drains at 500 (default 1,000)
 *   node bench/dist/postgres/run.js --only drain        # groups: enqueue, drain, latency
 *   node bench/dist/postgres/run.js --libraries errand,graphile-worker
 *   node bench/dist/postgres/run.js --tune '{"graphile-worker":{"localQueueSize":100}}'
 *
 * Every (figure, run, library) is one fresh `node --expose-gc` child on a freshly dropped
 * schema; the runs of a figure take turns between the libraries, so a slow moment of the
 * machine does not land on one library only. A figure is the median of its runs. Prints
 * three markdown tables with Errand's ratio to each peer (enqueue and latency; the drains
 * with every library at the same batch size, `--batch`; the drains with each library's
 * default settings) and the goals, checked on the same-batch drains, and writes
 * bench/results/postgres-latest.json (a partial run: postgres-latest.partial.json).
 * Uses DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { reply, runChild } from "../lib/child.js";
import { parseCompareArgs, runComparison, standardFigures, type CompareOptions, type FigureSpec, type GoalSpec, type Tuning } from "../lib/compare.js";
import { errandUnavailable } from "../lib/errand.js";
import { BENCH_DIR } from "../lib/profile.js";
import { LIBRARIES, type LibraryName } from "./libraries.js";
import { measure, type ChildParams, type Measurement } from "./scenarios.js";

const SELF = fileURLToPath(import.meta.url);
const RESULTS = join(BENCH_DIR, "results", "postgres-latest.json");
export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Runs one measurement in a fresh child. */
export function inChild(params: ChildParams, execArgv: string[] = []): Promise<Measurement> {
  return runChild<Measurement>(SELF, ["--child", JSON.stringify(params)], execArgv, `${params.library} ${JSON.stringify(params.scenario)}`);
}

// ---------------------------------------------------------------------------------------
// What is measured: the figures shared with the Redis bench (../lib/compare.ts).

// The drains are measured twice. Batch size decides them (README, "Notes on fairness"), so
// the fair comparison gives every library the same one: Errand's prefetch (fixed),
// graphile-worker's localQueue.size and pg-boss's batchSize all at `--batch` (1,000 by
// default: Errand's maxPrefetch on PostgreSQL). The goals are checked on that table. The
// second table keeps each library's default settings (README, "Settings"), as users get them.
// Beside the same-batch drains, what a job costs at concurrency 10 (and beside bulk enqueue,
// what a stored job costs): WAL and server CPU, read from the same runs.

/** The default of `--batch`. */
const DEFAULT_BATCH = 1000;
const peer = "graphile-worker" as const;

/** Each library's batch size at `batch` (over `--tune`). */
const sameBatch = (batch: number): Partial<Record<LibraryName, Tuning>> => ({
  errand: { prefetch: batch },
  "graphile-worker": { localQueueSize: batch },
  "pg-boss": { batchSize: batch },
});

// pg-boss polls (a batch per loop every 0.5 s): its drains are cut at 4 s, and the rate
// reached by then is reported.
function figureSpecs(drainJobs: number, batch: number): FigureSpec[] {
  const standard = standardFigures(drainJobs, { drainWarmup: 300, drainCapMs: 4_000, latencyCapMs: 10_000 });
  const sameTable = `Drains with the same batch size: Errand prefetch ${batch}, graphile-worker localQueue.size ${batch}, pg-boss batchSize ${batch}`;
  const same = standard
    .filter((f) => f.key.startsWith("drain."))
    .map((f) => ({ ...f, key: f.key.replace(/^drain\./, "drain.same."), table: sameTable, tuning: sameBatch(batch) }));
  const cost = (from: FigureSpec, read: keyof Measurement, key: string, figure: string, unit: string): FigureSpec => ({
    ...from,
    key: `${from.key}.${key}`,
    figure,
    unit,
    higherIsBetter: false,
    read,
  });
  const bulk = standard.find((f) => f.key === "enqueue.bulk")!;
  const c10 = same.find((f) => f.key === "drain.same.c10")!;
  return [
    ...standard.filter((f) => f.group !== "drain"),
    cost(bulk, "walBytesPerJob", "wal", "Enqueue bulk: WAL per job", "B"),
    cost(bulk, "postgresCpuUsPerJob", "pgCpu", "Enqueue bulk: PostgreSQL CPU per job", "µs"),
    ...same,
    cost(c10, "walBytesPerJob", "wal", "Drain, concurrency 10: WAL per job", "B"),
    cost(c10, "postgresCpuUsPerJob", "pgCpu", "Drain, concurrency 10: PostgreSQL CPU per job", "µs"),
    cost(c10, "nodeCpuUsPerJob", "nodeCpu", "Drain, concurrency 10: worker process CPU per job", "µs"),
    ...standard.filter((f) => f.group === "drain").map((f) => ({ ...f, table: "Drains with each library's default settings" })),
  ];
}

const USAGE =
  "usage: node bench/dist/postgres/run.js [--runs N] [--only enqueue,drain,latency] [--libraries errand,graphile-worker,pg-boss] [--drain-jobs N] [--batch N] [--tune JSON]";

/** The goals, on the same-batch drains. */
const goals = (batch: number): GoalSpec<LibraryName>[] => [
  ...[1, 10, 50].map((c) => ({ goal: `drain c=${c}, same batch size (${batch}) ≥ 1.4× graphile-worker`, key: `drain.same.c${c}`, peer, atLeast: 1.4 })),
  { goal: "bulk enqueue ≥ 1.3× graphile-worker", key: "enqueue.bulk", peer, atLeast: 1.3 },
  { goal: "bulk enqueue: WAL per job ≤ graphile-worker's", key: "enqueue.bulk.wal", peer, atMost: 1 },
  { goal: "bulk enqueue: PostgreSQL CPU per job ≤ graphile-worker's", key: "enqueue.bulk.pgCpu", peer, atMost: 1 },
  { goal: "drain c=10, same batch size: WAL per job ≤ graphile-worker's", key: "drain.same.c10.wal", peer, atMost: 1 },
  { goal: "drain c=10, same batch size: PostgreSQL CPU per job ≤ graphile-worker's", key: "drain.same.c10.pgCpu", peer, atMost: 1 },
  { goal: "single enqueue, 32 in flight ≥ 5× graphile-worker", key: "enqueue.inflight32", peer, atLeast: 5 },
  { goal: "enqueue → start p50 ≤ 3 ms", key: "latency.p50", atMost: 3 },
];

/** Takes `--batch N` out of the arguments (the rest are the shared ones). */
function takeBatch(argv: string[]): { batch: number; rest: string[] } {
  const at = argv.indexOf("--batch");
  if (at === -1) return { batch: DEFAULT_BATCH, rest: argv };
  const batch = Number(argv[at + 1]);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`--batch must be an integer >= 1, got ${JSON.stringify(argv[at + 1] ?? null)}`);
  return { batch, rest: [...argv.slice(0, at), ...argv.slice(at + 2)] };
}

// ---------------------------------------------------------------------------------------
// Parent.

async function main(options: CompareOptions<LibraryName>, batch: number): Promise<void> {
  await runComparison<LibraryName, Measurement>(options, {
    title: "Errand-postgres vs graphile-worker 0.17.3 vs pg-boss 10.4.2",
    libraries: LIBRARIES,
    ratios: [
      { peer: "graphile-worker", label: "errand/graphile" },
      { peer: "pg-boss", label: "errand/pg-boss" },
    ],
    errandMissing: options.libraries.includes("errand") ? await errandUnavailable("@errand/adapter-postgres") : undefined,
    figures: figureSpecs(options.drainJobs, batch),
    measure: (library, scenario, tuning) => {
      const params: ChildParams = { library, scenario, url: DATABASE_URL };
      if (tuning) params.tuning = tuning;
      return inChild(params);
    },
    footnote:
      "↑ higher is better, ↓ lower is better; ratios are errand ÷ peer. * the drain was cut at its time cap (4 s): the rate reached until then. " +
      "Per-job costs: WAL written by the whole server, CPU of the PostgreSQL backends serving the library's connections plus the server's background processes (from /proc) and of the worker process, during the timed part.",
    goals: goals(batch),
    versions: { "graphile-worker": "0.17.3", "pg-boss": "10.4.2" },
    results: RESULTS,
    defaultDrainJobs: 20_000,
    partial: batch !== DEFAULT_BATCH,
  });
}

if (process.argv[2] === "--child") {
  await reply(await measure(JSON.parse(process.argv[3]!) as ChildParams));
} else if (process.argv[1] === SELF) {
  const { batch, rest } = takeBatch(process.argv.slice(2));
  await main(parseCompareArgs(rest, LIBRARIES, USAGE), batch);
}
