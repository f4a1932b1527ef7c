/**
 * Errand core benchmark: the full core path (Job → AdapterClient → async adapter → Worker
 * → execution) on `@errand/adapter-async`.
 *
 *   npm run bench                              # everything, 3 runs per figure, ~1–2 min
 *   node bench/dist/core/run.js --runs 1       # quicker
 *   node bench/dist/core/run.js --only drain   # one group: enqueue|drain|latency|bare|memory
 *
 * Each (figure, run) is one child process started with `--expose-gc` (the script asks for
 * the flag itself), so figures do not share heaps or JIT state. A figure is the median of
 * its runs. Prints a markdown table and writes bench/results/core-latest.json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { median } from "../lib/stats.js";
import { inChild } from "./child.js";
import { scenarios, type DrainResult, type ScenarioName } from "./scenarios.js";
import { machineFacts } from "../lib/machine.js";

const SELF = fileURLToPath(import.meta.url);
/** bench/ (this file is bench/dist/core/run.js once built). */
const BENCH_DIR = resolve(dirname(SELF), "..", "..");
const RESULTS = join(BENCH_DIR, "results", "core-latest.json");
const GOAL = 200_000;

// ---------------------------------------------------------------------------------------
// Child side: run one scenario, send the numbers back.

async function child(name: ScenarioName, params: unknown): Promise<void> {
  const result = await (scenarios[name] as (p: unknown) => Promise<unknown>)(params);
  process.send!(result);
}

// ---------------------------------------------------------------------------------------
// Parent side.

interface Figure {
  key: string;
  figure: string;
  value: number;
  unit: string;
  runs: number[];
  /** False: in the JSON only. */
  table?: boolean;
}

interface Options {
  runs: number;
  only: Set<string> | undefined;
  drainJobs: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { runs: 3, only: undefined, drainJobs: 100_000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === "--runs") options.runs = Number(value());
    else if (arg === "--only") options.only = new Set(value().split(","));
    else if (arg === "--drain-jobs") options.drainJobs = Number(value());
    else if (arg === "--help" || arg === "-h") {
      console.log("usage: node bench/dist/core/run.js [--runs N] [--only enqueue,drain,latency,bare,memory] [--drain-jobs N]");
      process.exit(0);
    } else throw new Error(`unknown option ${arg}`);
  }
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new Error("--runs must be an integer >= 1");
  return options;
}

function format(value: number, unit: string): string {
  if (unit === "ratio") return value.toFixed(2);
  if (unit === "MB") return value.toFixed(1);
  if (unit === "ms") return value < 100 ? value.toFixed(1) : Math.round(value).toLocaleString("en-US");
  if (unit === "µs") return value < 100 ? value.toFixed(1) : Math.round(value).toLocaleString("en-US");
  return Math.round(value).toLocaleString("en-US");
}

async function parent(options: Options): Promise<void> {
  const began = performance.now();
  const figures: Figure[] = [];
  const wanted = (group: string) => !options.only || options.only.has(group);
  const log = (message: string) => process.stderr.write(`${message}\n`);

  /** Runs `name` `options.runs` times, each in its own process; returns every result. */
  const repeat = async <T>(label: string, name: ScenarioName, params: unknown): Promise<T[]> => {
    const results: T[] = [];
    for (let run = 1; run <= options.runs; run++) {
      const t = performance.now();
      results.push(await inChild<T>(name, params));
      log(`  ${label} run ${run}/${options.runs} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    }
    return results;
  };
  const add = (key: string, figure: string, unit: string, runs: number[], table = true) =>
    figures.push(table ? { key, figure, value: median(runs), unit, runs } : { key, figure, value: median(runs), unit, runs, table });

  if (wanted("enqueue")) {
    log("enqueue throughput");
    const cases = [
      ["enqueue.sequential", "Enqueue: `performLater`, one at a time (awaited)", { mode: "sequential", jobs: 50_000 }],
      ["enqueue.inflight32", "Enqueue: `performLater`, 32 in flight", { mode: "inflight", jobs: 50_000, inFlight: 32 }],
      ["enqueue.bulk1000", "Enqueue: `performAllLater`, 1,000 per call", { mode: "bulk", jobs: 100_000, batch: 1000 }],
    ] as const;
    for (const [key, figure, params] of cases) {
      const runs = await repeat<{ rate: number }>(key, "enqueue", params);
      add(key, figure, "jobs/s", runs.map((r) => r.rate));
    }
  }

  const drainRates = new Map<number, number>();
  if (wanted("drain")) {
    log("drain throughput");
    for (const concurrency of [1, 10, 50]) {
      const key = `drain.c${concurrency}`;
      const runs = await repeat<DrainResult>(key, "drain", { concurrency, jobs: options.drainJobs });
      const jobs = options.drainJobs.toLocaleString("en-US");
      add(key, `Drain ${jobs} no-op jobs, concurrency ${concurrency} (until all settled)`, "jobs/s", runs.map((r) => r.rate));
      add(`${key}.complete`, `Drain ${jobs} no-op jobs, concurrency ${concurrency}, until the last job:complete`, "jobs/s", runs.map((r) => r.completeRate), false);
      add(`${key}.stall`, `Longest event-loop stall during the drain, concurrency ${concurrency}`, "ms", runs.map((r) => r.maxStallMs), concurrency === 10);
      add(`${key}.turns`, `Event-loop turns during the drain, concurrency ${concurrency}`, "turns", runs.map((r) => r.loopTurns), false);
      add(`${key}.cpu`, `Drain ${jobs} no-op jobs, concurrency ${concurrency}, per CPU-second of the process`, "jobs/s", runs.map((r) => (options.drainJobs / r.cpuMs) * 1000), false);
      drainRates.set(concurrency, median(runs.map((r) => r.rate)));
    }
  }

  if (wanted("latency")) {
    log("enqueue → start latency");
    const runs = await repeat<{ p50: number; p95: number; p99: number; max: number; mean: number }>("latency", "latency", {
      concurrency: 10,
      jobs: 2000,
      warmup: 500,
    });
    for (const p of ["p50", "p95", "p99"] as const) {
      add(`latency.${p}`, `Enqueue → start latency ${p} (concurrency 10, 2,000 jobs, one at a time)`, "µs", runs.map((r) => r[p]));
    }
  }

  let bareRate: number | undefined;
  if (wanted("bare")) {
    log("bare loop");
    const runs = await repeat<{ rate: number }>("bare", "bare", { jobs: options.drainJobs });
    add("bare.loop", "Bare loop: superjson round trip + await no-op, one job after another", "jobs/s", runs.map((r) => r.rate));
    bareRate = median(runs.map((r) => r.rate));
    for (const [concurrency, rate] of drainRates) {
      figures.push({
        key: `ratio.c${concurrency}`,
        figure: `Errand drain (concurrency ${concurrency}) / bare loop`,
        value: rate / bareRate,
        unit: "ratio",
        runs: [],
      });
    }
  }

  if (wanted("memory")) {
    log("worker memory");
    const runs = await repeat<{ samples: { processed: number; rssMb: number; heapUsedMb: number }[] }>("memory", "memory", {
      concurrency: 10,
      checkpoints: [10_000, 50_000, 100_000],
      batch: 1000,
    });
    for (const processed of [10_000, 50_000, 100_000]) {
      const at = runs.map((r) => r.samples.find((s) => s.processed === processed)!);
      const label = `${processed / 1000}k`;
      const table = processed !== 50_000; // the table shows 10k and 100k; 50k is in the JSON
      add(`memory.rss.${label}`, `Worker RSS after ${label} processed jobs (after GC)`, "MB", at.map((s) => s.rssMb), table);
      add(`memory.heap.${label}`, `Worker heap used after ${label} processed jobs (after GC)`, "MB", at.map((s) => s.heapUsedMb), table);
    }
  }

  const seconds = (performance.now() - began) / 1000;
  const lines = ["| figure | value | unit |", "| --- | ---: | --- |"];
  for (const f of figures) if (f.table !== false) lines.push(`| ${f.figure} | ${format(f.value, f.unit)} | ${f.unit} |`);
  console.log(`\nErrand core benchmark — async adapter, median of ${options.runs} run(s), node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}\n`);
  console.log(lines.join("\n"));

  let best: { concurrency: number; rate: number } | undefined;
  for (const [concurrency, rate] of drainRates) if (!best || rate > best.rate) best = { concurrency, rate };
  const goal = best
    ? {
        target: GOAL,
        reached: best.rate,
        concurrency: best.concurrency,
        met: best.rate >= GOAL,
        line: `goal: >= 200k jobs/s drained — reached ${format(best.rate, "jobs/s")} jobs/s (concurrency ${best.concurrency}, ${((best.rate / GOAL) * 100).toFixed(0)}% of goal)${best.rate >= GOAL ? " ✔" : " ✘"}`,
      }
    : undefined;
  console.log(`\n${goal?.line ?? "goal: >= 200k jobs/s drained — drain not run"}`);
  console.log(`(${seconds.toFixed(0)} s)`);

  await mkdir(dirname(RESULTS), { recursive: true });
  const report = {
    ...machineFacts(),
    runsPerFigure: options.runs,
    durationSeconds: Math.round(seconds),
    figures,
    goal: goal ?? null,
  };
  // Only a full run replaces core-latest.json; a partial one goes next to it.
  const file = options.only ? RESULTS.replace(/\.json$/, `.partial.json`) : RESULTS;
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${relative(process.cwd(), file)}`);
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") {
  await child(argv[1] as ScenarioName, JSON.parse(argv[2] ?? "{}"));
} else {
  await parent(parseArgs(argv));
}
