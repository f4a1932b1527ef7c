/**
 * Errand-postgres, graphile-worker and pg-boss, one after another on the same database.
 *
 *   npm run bench:postgres                              # 3 runs per figure (median), ~5 min
 *   node bench/dist/postgres/run.js --runs 1            # quicker
 *   node bench/dist/postgres/run.js --only drain        # groups: enqueue, drain, latency
 *   node bench/dist/postgres/run.js --libraries errand,graphile-worker
 *   node bench/dist/postgres/run.js --tune '{"graphile-worker":{"localQueueSize":100}}'
 *
 * Every (figure, run, library) is one fresh `node --expose-gc` child on a freshly dropped
 * schema; the runs of a figure take turns between the libraries, so a slow moment of the
 * machine does not land on one library only. A figure is the median of its runs. Prints a
 * markdown table with Errand's ratio to each peer and the goals, and writes
 * bench/results/postgres-latest.json (a partial run: postgres-latest.partial.json).
 * Uses DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { reply, runChild } from "../lib/child.js";
import { parseCompareArgs, runComparison, standardFigures, type CompareOptions, type GoalSpec } from "../lib/compare.js";
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

// pg-boss polls (a batch per loop every 0.5 s): its drains are cut at 4 s, and the rate
// reached by then is reported.
const figureSpecs = (drainJobs: number) => standardFigures(drainJobs, { drainWarmup: 300, drainCapMs: 4_000, latencyCapMs: 10_000 });

const USAGE =
  "usage: node bench/dist/postgres/run.js [--runs N] [--only enqueue,drain,latency] [--libraries errand,graphile-worker,pg-boss] [--drain-jobs N] [--tune JSON]";

const GOALS: GoalSpec<LibraryName>[] = [
  ...[1, 10, 50].map((c) => ({ goal: `drain c=${c} ≥ 1.2× graphile-worker`, key: `drain.c${c}`, peer: "graphile-worker" as const, atLeast: 1.2 })),
  { goal: "bulk enqueue ≥ 1.2× graphile-worker", key: "enqueue.bulk", peer: "graphile-worker", atLeast: 1.2 },
  { goal: "single enqueue, 32 in flight ≥ 5× graphile-worker", key: "enqueue.inflight32", peer: "graphile-worker", atLeast: 5 },
  { goal: "enqueue → start p50 ≤ 3 ms", key: "latency.p50", atMost: 3 },
];

// ---------------------------------------------------------------------------------------
// Parent.

async function main(options: CompareOptions<LibraryName>): Promise<void> {
  await runComparison<LibraryName, Measurement>(options, {
    title: "Errand-postgres vs graphile-worker 0.17.3 vs pg-boss 10.4.2",
    libraries: LIBRARIES,
    ratios: [
      { peer: "graphile-worker", label: "errand/graphile" },
      { peer: "pg-boss", label: "errand/pg-boss" },
    ],
    errandMissing: options.libraries.includes("errand") ? await errandUnavailable("@errand/adapter-postgres") : undefined,
    figures: figureSpecs(options.drainJobs),
    measure: (library, scenario, tuning) => {
      const params: ChildParams = { library, scenario, url: DATABASE_URL };
      if (tuning) params.tuning = tuning;
      return inChild(params);
    },
    footnote: "↑ higher is better, ↓ lower is better; ratios are errand ÷ peer. * the drain was cut at its time cap (4 s): the rate reached until then.",
    goals: GOALS,
    versions: { "graphile-worker": "0.17.3", "pg-boss": "10.4.2" },
    results: RESULTS,
    defaultDrainJobs: 20_000,
  });
}

if (process.argv[2] === "--child") {
  await reply(await measure(JSON.parse(process.argv[3]!) as ChildParams));
} else if (process.argv[1] === SELF) {
  await main(parseCompareArgs(process.argv.slice(2), LIBRARIES, USAGE));
}
