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
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

import { reply, runChild } from "../lib/child.js";
import { BENCH_DIR } from "../lib/profile.js";
import { formatNumber, median } from "../lib/stats.js";
import { errandUnavailable, LIBRARIES, type LibraryName, type Tuning } from "./libraries.js";
import { measure, type ChildParams, type Measurement, type Scenario } from "./scenarios.js";

const SELF = fileURLToPath(import.meta.url);
const RESULTS = join(BENCH_DIR, "results", "postgres-latest.json");
export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Runs one measurement in a fresh child. */
export function inChild(params: ChildParams, execArgv: string[] = []): Promise<Measurement> {
  return runChild<Measurement>(SELF, ["--child", JSON.stringify(params)], execArgv, `${params.library} ${JSON.stringify(params.scenario)}`);
}

// ---------------------------------------------------------------------------------------
// What is measured.

type Group = "enqueue" | "drain" | "latency";

interface FigureSpec {
  key: string;
  figure: string;
  unit: string;
  /** Higher is better (throughput) or lower (latency, memory). */
  higherIsBetter: boolean;
  group: Group;
  scenario: Scenario;
  read: keyof Measurement;
}

function figureSpecs(drainJobs: number): FigureSpec[] {
  const drains = [1, 10, 50].map((concurrency) => ({
    concurrency,
    // pg-boss polls (a batch per loop every 0.5 s): its drains are cut at capMs, and the
    // rate reached by then is reported.
    scenario: { kind: "drain", count: drainJobs, concurrency, warmup: 300, capMs: 4_000 } as Scenario,
  }));
  const latency: Scenario = { kind: "latency", count: 500, concurrency: 10, warmup: 50, capMs: 10_000 };
  const k = `${Math.round(drainJobs / 1000)}k`;
  return [
    { key: "enqueue.bulk", figure: "Enqueue bulk, 20k jobs in one call", unit: "jobs/s", higherIsBetter: true, group: "enqueue", scenario: { kind: "bulk", count: 20_000, warmup: 1_000 }, read: "value" },
    { key: "enqueue.sequential", figure: "Enqueue single, sequential (5k)", unit: "jobs/s", higherIsBetter: true, group: "enqueue", scenario: { kind: "sequential", count: 5_000, warmup: 200 }, read: "value" },
    { key: "enqueue.inflight32", figure: "Enqueue single, 32 in flight (5k)", unit: "jobs/s", higherIsBetter: true, group: "enqueue", scenario: { kind: "inflight", count: 5_000, lanes: 32, warmup: 200 }, read: "value" },
    ...drains.map(({ concurrency, scenario }) => ({
      key: `drain.c${concurrency}`,
      figure: `Drain ${k} no-op jobs, concurrency ${concurrency}`,
      unit: "jobs/s",
      higherIsBetter: true,
      group: "drain" as const,
      scenario,
      read: "value" as const,
    })),
    ...(["p50", "p95", "p99"] as const).map((read) => ({
      key: `latency.${read}`,
      figure: `Enqueue → start latency ${read} (concurrency 10)`,
      unit: "ms",
      higherIsBetter: false,
      group: "latency" as const,
      scenario: latency,
      read,
    })),
    ...drains.map(({ concurrency, scenario }) => ({
      key: `rss.drain.c${concurrency}`,
      figure: `Peak RSS during the drain, concurrency ${concurrency}`,
      unit: "MB",
      higherIsBetter: false,
      group: "drain" as const,
      scenario,
      read: "peakRssMb" as const,
    })),
  ];
}

// ---------------------------------------------------------------------------------------
// Parent.

interface Options {
  runs: number;
  only: Set<Group> | undefined;
  libraries: LibraryName[];
  tuning: Partial<Record<LibraryName, Tuning>>;
  drainJobs: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { runs: 3, only: undefined, libraries: [...LIBRARIES], tuning: {}, drainJobs: 20_000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === "--runs") options.runs = Number(value());
    else if (arg === "--only") options.only = new Set(value().split(",") as Group[]);
    else if (arg === "--libraries") options.libraries = value().split(",") as LibraryName[];
    else if (arg === "--tune") options.tuning = JSON.parse(value()) as Options["tuning"];
    else if (arg === "--drain-jobs") options.drainJobs = Number(value());
    else if (arg === "--help" || arg === "-h") {
      console.log(
        "usage: node bench/dist/postgres/run.js [--runs N] [--only enqueue,drain,latency] [--libraries errand,graphile-worker,pg-boss] [--drain-jobs N] [--tune JSON]",
      );
      process.exit(0);
    } else throw new Error(`unknown option ${arg}`);
  }
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new Error("--runs must be an integer >= 1");
  for (const name of options.libraries) if (!LIBRARIES.includes(name)) throw new Error(`unknown library ${name}; one of ${LIBRARIES.join(", ")}`);
  for (const group of options.only ?? []) if (!["enqueue", "drain", "latency"].includes(group)) throw new Error(`unknown group ${group}`);
  return options;
}

interface Figure {
  key: string;
  figure: string;
  unit: string;
  higherIsBetter: boolean;
  /** Median per library; absent when the library did not run. */
  values: Partial<Record<LibraryName, number>>;
  runs: Partial<Record<LibraryName, number[]>>;
}

async function main(options: Options): Promise<void> {
  const began = performance.now();
  const log = (message: string) => process.stderr.write(`${message}\n`);
  const errandMissing = options.libraries.includes("errand") ? await errandUnavailable() : undefined;
  if (errandMissing) log(`errand: ${errandMissing}`);
  const libraries = options.libraries.filter((name) => !(name === "errand" && errandMissing));

  const specs = figureSpecs(options.drainJobs).filter((spec) => !options.only || options.only.has(spec.group));
  /** Measurements by scenario, then library: figures that read the same scenario share its runs. */
  const measured = new Map<string, Partial<Record<LibraryName, Measurement[]>>>();
  const settings: Partial<Record<LibraryName, Record<string, unknown>>> = {};
  const figures: Figure[] = [];
  for (const spec of specs) {
    const scenarioKey = JSON.stringify(spec.scenario);
    let byLibrary = measured.get(scenarioKey);
    if (!byLibrary) {
      byLibrary = {};
      measured.set(scenarioKey, byLibrary);
      for (let run = 1; run <= options.runs; run++) {
        for (const library of libraries) {
          const t = performance.now();
          const params: ChildParams = { library, scenario: spec.scenario, url: DATABASE_URL };
          const tuning = options.tuning[library];
          if (tuning) params.tuning = tuning;
          const result = await inChild(params);
          (byLibrary[library] ??= []).push(result);
          settings[library] ??= result.settings;
          log(
            `  ${spec.key.replace(/\.p50$/, "")} ${library} run ${run}/${options.runs}: ${formatNumber(result.value, 2)}${result.capped ? " (capped)" : ""} (${((performance.now() - t) / 1000).toFixed(1)} s)`,
          );
        }
      }
    }
    const figure: Figure = { key: spec.key, figure: spec.figure, unit: spec.unit, higherIsBetter: spec.higherIsBetter, values: {}, runs: {} };
    for (const library of libraries) {
      const runs = (byLibrary[library] ?? []).map((m) => m[spec.read] as number | undefined).filter((v): v is number => v !== undefined);
      if (runs.length === 0) continue;
      figure.runs[library] = runs;
      figure.values[library] = median(runs);
    }
    figures.push(figure);
  }
  const seconds = (performance.now() - began) / 1000;

  // ---- table
  const cell = (figure: Figure, library: LibraryName) => {
    if (library === "errand" && errandMissing) return "n/a (adapter not built)";
    const value = figure.values[library];
    if (value === undefined) return "–";
    const text = figure.unit === "ms" ? value.toFixed(2) : formatNumber(value);
    const capped = (measured.get(JSON.stringify(specs.find((s) => s.key === figure.key)!.scenario))?.[library] ?? []).some((m) => m.capped);
    return capped && figure.unit === "jobs/s" ? `${text}*` : text;
  };
  const ratio = (figure: Figure, peer: LibraryName) => {
    const a = figure.values.errand;
    const b = figure.values[peer];
    if (a === undefined || b === undefined || b === 0) return "n/a";
    const q = a / b;
    return `${q >= 100 ? Math.round(q).toLocaleString("en-US") : q.toFixed(2)}×`;
  };
  const lines = [
    `Errand-postgres vs graphile-worker 0.17.3 vs pg-boss 10.4.2 — median of ${options.runs} run(s), node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}`,
    "",
    "| figure | unit | errand | graphile-worker | pg-boss | errand/graphile | errand/pg-boss |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ...figures.map(
      (f) =>
        `| ${f.figure} | ${f.unit} ${f.higherIsBetter ? "↑" : "↓"} | ${cell(f, "errand")} | ${cell(f, "graphile-worker")} | ${cell(f, "pg-boss")} | ${ratio(f, "graphile-worker")} | ${ratio(f, "pg-boss")} |`,
    ),
    "",
    "↑ higher is better, ↓ lower is better; ratios are errand ÷ peer. * the drain was cut at its time cap (4 s): the rate reached until then.",
    "",
  ];

  // ---- goals
  const find = (key: string) => figures.find((f) => f.key === key);
  const vsGraphile = (f: Figure | undefined) =>
    f?.values.errand !== undefined && f.values["graphile-worker"] !== undefined ? f.values.errand / f.values["graphile-worker"] : undefined;
  const goals: { goal: string; actual: string; met: boolean | null }[] = [];
  const timesGoal = (key: string, label: string, target: number) => {
    const f = find(key);
    if (!f) return;
    const q = vsGraphile(f);
    goals.push({ goal: `${label} ≥ ${target}× graphile-worker`, actual: q === undefined ? "n/a" : `${q.toFixed(2)}×`, met: q === undefined ? null : q >= target });
  };
  for (const c of [1, 10, 50]) timesGoal(`drain.c${c}`, `drain c=${c}`, 1.2);
  timesGoal("enqueue.bulk", "bulk enqueue", 1.2);
  timesGoal("enqueue.inflight32", "single enqueue, 32 in flight", 5);
  const p50 = find("latency.p50")?.values.errand;
  if (find("latency.p50")) goals.push({ goal: "enqueue → start p50 ≤ 3 ms", actual: p50 === undefined ? "n/a" : `${p50.toFixed(2)} ms`, met: p50 === undefined ? null : p50 <= 3 });
  for (const g of goals) lines.push(`goal: ${g.goal} — ${g.actual} ${g.met === null ? "(not measured)" : g.met ? "✔" : "✘"}`);
  lines.push("", `(${seconds.toFixed(0)} s)`);
  console.log(lines.join("\n"));

  // ---- JSON
  const details = (key: string) => {
    const spec = specs.find((s) => s.key === key);
    const byLibrary = spec && measured.get(JSON.stringify(spec.scenario));
    if (!byLibrary) return undefined;
    const out: Record<string, unknown> = {};
    for (const [library, runs] of Object.entries(byLibrary)) {
      out[library] = runs.map(({ settings: _settings, ...rest }) => rest);
    }
    return out;
  };
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    versions: { "graphile-worker": "0.17.3", "pg-boss": "10.4.2" },
    runsPerFigure: options.runs,
    durationSeconds: Math.round(seconds),
    errand: errandMissing ?? "ok",
    settings,
    tuning: options.tuning,
    figures,
    goals,
    /** Every run's full measurement (drain: CPU per job, rate from the start call, …). */
    measurements: Object.fromEntries(
      specs.filter((s) => s.read === "value" || s.read === "p50").map((s) => [s.key.replace(/\.p50$/, ""), details(s.key)]),
    ),
  };
  const partial = options.only || options.libraries.length < LIBRARIES.length || Object.keys(options.tuning).length > 0 || options.drainJobs !== 20_000;
  const file = partial ? RESULTS.replace(/\.json$/, ".partial.json") : RESULTS;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${relative(process.cwd(), file)}`);
}

if (process.argv[2] === "--child") {
  await reply(await measure(JSON.parse(process.argv[3]!) as ChildParams));
} else if (process.argv[1] === SELF) {
  await main(parseArgs(process.argv.slice(2)));
}
