/**
 * Parent side of the benchmarks that put Errand next to other job libraries on one backend
 * (PostgreSQL, Redis): the figures they share, their command line, and the runner that
 * measures every (figure, run, library) in a fresh child, libraries taking turns run by
 * run, then prints markdown tables with Errand's ratio to each peer and the goals, and
 * writes the JSON report. Each benchmark brings its libraries, its child and its goals.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { dirname, relative } from "node:path";

import type { Scenario } from "./scenarios.js";
import { formatNumber, median } from "./stats.js";
import { machineFacts } from "./machine.js";

export type Group = "enqueue" | "drain" | "latency";
const GROUPS: readonly Group[] = ["enqueue", "drain", "latency"];

/** One row of the table: which scenario it reads, and which number of its measurements. */
export interface FigureSpec {
  key: string;
  figure: string;
  unit: string;
  /** Higher is better (throughput) or lower (latency, memory, CPU). */
  higherIsBetter: boolean;
  group: Group;
  scenario: Scenario;
  /** The measurement's field this row shows (`value`, `p95`, `peakRssMb`, …). */
  read: string;
  /**
   * The table this row is printed in, by its heading; rows without one go in the first
   * table. Tables come in the order of their first row.
   */
  table?: string;
  /**
   * Settings per library for this row's measurements, over `--tune` (the same-batch drains:
   * each library's batch size). Rows with the same scenario and tuning share their runs.
   */
  tuning?: Partial<Record<string, Tuning>>;
}

/** How the shared figures are cut for one backend. */
export interface FigureLimits {
  /** Jobs drained first (then the workers stop) before the timed drain. */
  drainWarmup: number;
  /** A drain is cut after this long and reports the rate reached (for polling libraries). */
  drainCapMs: number;
  /** The measured part of the latency loop ends after this long (at least 20 samples). */
  latencyCapMs: number;
}

/**
 * The figures every comparison has: bulk, sequential and 32-in-flight enqueue; drains at
 * concurrency 1, 10 and 50; enqueue → start latency at concurrency 10; peak RSS of each drain.
 */
export function standardFigures(drainJobs: number, limits: FigureLimits): FigureSpec[] {
  const drains = [1, 10, 50].map((concurrency) => ({
    concurrency,
    scenario: { kind: "drain", count: drainJobs, concurrency, warmup: limits.drainWarmup, capMs: limits.drainCapMs } as Scenario,
  }));
  const latency: Scenario = { kind: "latency", count: 500, concurrency: 10, warmup: 50, capMs: limits.latencyCapMs };
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
      read: "value",
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
      read: "peakRssMb",
    })),
  ];
}

/** Per-library settings the harness may override (`--tune JSON`), for trying settings. */
export type Tuning = Record<string, number | string | boolean>;

export interface CompareOptions<L extends string> {
  runs: number;
  only: Set<Group> | undefined;
  libraries: L[];
  tuning: Partial<Record<L, Tuning>>;
  drainJobs: number;
}

/** Reads `--runs`, `--only`, `--libraries`, `--tune`, `--drain-jobs` (and `--help`, which prints `usage`). */
export function parseCompareArgs<L extends string>(argv: string[], libraries: readonly L[], usage: string, drainJobs = 20_000): CompareOptions<L> {
  const options: CompareOptions<L> = { runs: 3, only: undefined, libraries: [...libraries], tuning: {}, drainJobs };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === "--runs") options.runs = Number(value());
    else if (arg === "--only") options.only = new Set(value().split(",") as Group[]);
    else if (arg === "--libraries") options.libraries = value().split(",") as L[];
    else if (arg === "--tune") options.tuning = JSON.parse(value()) as CompareOptions<L>["tuning"];
    else if (arg === "--drain-jobs") options.drainJobs = Number(value());
    else if (arg === "--help" || arg === "-h") {
      console.log(usage);
      process.exit(0);
    } else throw new Error(`unknown option ${arg}`);
  }
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new Error("--runs must be an integer >= 1");
  if (!Number.isInteger(options.drainJobs) || options.drainJobs < 1) throw new Error("--drain-jobs must be an integer >= 1");
  for (const name of options.libraries) if (!libraries.includes(name)) throw new Error(`unknown library ${name}; one of ${libraries.join(", ")}`);
  for (const group of options.only ?? []) if (!GROUPS.includes(group)) throw new Error(`unknown group ${group}`);
  return options;
}

/** What every child sends back, whatever else a benchmark adds. */
export interface BaseMeasurement {
  /** The headline: jobs/s, or the p50 in ms for latency. */
  value: number;
  settings: Record<string, unknown>;
  /** The drain hit its time cap: `value` is the rate of starts reached until then. */
  capped?: boolean;
}

/**
 * A goal line. With `peer` the goal is on Errand's ratio to that peer, else on Errand's own
 * value; `atLeast` / `atMost` bound it.
 */
export interface GoalSpec<L extends string> {
  goal: string;
  key: string;
  peer?: L;
  atLeast?: number;
  atMost?: number;
}

export interface Comparison<L extends string, M extends BaseMeasurement> {
  /** First line of the table's heading (the runs and the machine follow). */
  title: string;
  /** Every library, in column order; `"errand"` among them. */
  libraries: readonly L[];
  /** Ratio columns: Errand ÷ each peer, with the column's label. */
  ratios: readonly { peer: L; label: string }[];
  /** Why Errand cannot run (its column says n/a), when it cannot. */
  errandMissing: string | undefined;
  figures: FigureSpec[];
  /** Runs one measurement in a fresh child. */
  measure(library: L, scenario: Scenario, tuning: Tuning | undefined): Promise<M>;
  /** Printed under the table. */
  footnote: string;
  goals: readonly GoalSpec<L>[];
  /** Versions of the peers, for the JSON. */
  versions: Record<string, string>;
  /** More facts for the JSON (the server, …), after `versions`. */
  environment?: Record<string, unknown>;
  /** Where a full run's JSON goes; a partial run writes `*.partial.json` beside it. */
  results: string;
  /** A run with another `--runs` is partial too (unset: any number of runs is a full run). */
  fullRuns?: number;
  /** The default `--drain-jobs`: another size is a partial run. */
  defaultDrainJobs: number;
  /** The benchmark's own options make this a partial run (one of its defaults changed). */
  partial?: boolean;
}

interface Figure<L extends string> {
  key: string;
  figure: string;
  unit: string;
  higherIsBetter: boolean;
  table?: string;
  tuning?: Partial<Record<string, Tuning>>;
  /** Median per library; absent when the library did not run. */
  values: Partial<Record<L, number>>;
  runs: Partial<Record<L, number[]>>;
}

/** Rows with the same key read the same runs: the scenario and the row's own tuning. */
function measuredKey(spec: FigureSpec): string {
  return JSON.stringify(spec.tuning === undefined ? spec.scenario : [spec.scenario, spec.tuning]);
}

/** Measures, prints the tables and goals, writes the JSON. */
export async function runComparison<L extends string, M extends BaseMeasurement>(options: CompareOptions<L>, comparison: Comparison<L, M>): Promise<void> {
  const began = performance.now();
  const log = (message: string) => process.stderr.write(`${message}\n`);
  const { errandMissing } = comparison;
  const errand = "errand" as L;
  if (errandMissing) log(`errand: ${errandMissing}`);
  const libraries = options.libraries.filter((name) => !(name === errand && errandMissing));

  const specs = comparison.figures.filter((spec) => !options.only || options.only.has(spec.group));
  /** Measurements by scenario, then library: figures that read the same scenario share its runs. */
  const measured = new Map<string, Partial<Record<L, M[]>>>();
  const settings: Partial<Record<L, Record<string, unknown>>> = {};
  const figures: Figure<L>[] = [];
  for (const spec of specs) {
    const scenarioKey = measuredKey(spec);
    let byLibrary = measured.get(scenarioKey);
    if (!byLibrary) {
      byLibrary = {};
      measured.set(scenarioKey, byLibrary);
      // Libraries take turns run by run, so a slow moment of the machine does not land on one library only.
      for (let run = 1; run <= options.runs; run++) {
        for (const library of libraries) {
          const t = performance.now();
          const tuning = spec.tuning?.[library] ? { ...options.tuning[library], ...spec.tuning[library] } : options.tuning[library];
          const result = await comparison.measure(library, spec.scenario, tuning);
          (byLibrary[library] ??= []).push(result);
          if (!spec.tuning) settings[library] ??= result.settings;
          log(
            `  ${spec.tuning ? `${spec.key} (tuned)` : spec.key.replace(/\.p50$/, "")} ${library} run ${run}/${options.runs}: ${formatNumber(result.value, 2)}${result.capped ? " (capped)" : ""} (${((performance.now() - t) / 1000).toFixed(1)} s)`,
          );
        }
      }
    }
    const figure: Figure<L> = { key: spec.key, figure: spec.figure, unit: spec.unit, higherIsBetter: spec.higherIsBetter, values: {}, runs: {} };
    if (spec.table !== undefined) figure.table = spec.table;
    if (spec.tuning !== undefined) figure.tuning = spec.tuning;
    for (const library of libraries) {
      const runs = (byLibrary[library] ?? [])
        .map((m) => (m as unknown as Record<string, unknown>)[spec.read])
        .filter((v): v is number => typeof v === "number");
      if (runs.length === 0) continue;
      figure.runs[library] = runs;
      figure.values[library] = median(runs);
    }
    figures.push(figure);
  }
  const seconds = (performance.now() - began) / 1000;

  // ---- table
  const cell = (figure: Figure<L>, library: L) => {
    if (library === errand && errandMissing) return "n/a (adapter not built)";
    const value = figure.values[library];
    if (value === undefined) return "–";
    const text = figure.unit === "ms" ? value.toFixed(2) : formatNumber(value);
    const capped = (measured.get(measuredKey(specs.find((s) => s.key === figure.key)!))?.[library] ?? []).some((m) => m.capped);
    return capped && figure.unit === "jobs/s" ? `${text}*` : text;
  };
  const quotient = (figure: Figure<L> | undefined, peer: L) => {
    const a = figure?.values[errand];
    const b = figure?.values[peer];
    return a === undefined || b === undefined || b === 0 ? undefined : a / b;
  };
  const ratio = (figure: Figure<L>, peer: L) => {
    const q = quotient(figure, peer);
    if (q === undefined) return "n/a";
    return `${q >= 100 ? Math.round(q).toLocaleString("en-US") : q.toFixed(2)}×`;
  };
  // The rows without a table first (sort() would put undefined last without asking).
  const named = [...new Set(figures.map((f) => f.table))].filter((table) => table !== undefined);
  const tables = figures.some((f) => f.table === undefined) ? [undefined, ...named] : named;
  const lines = [`${comparison.title} — median of ${options.runs} run(s), node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}`, ""];
  for (const table of tables) {
    if (table !== undefined) lines.push(`${table}:`, "");
    lines.push(
      `| figure | unit | ${comparison.libraries.join(" | ")} | ${comparison.ratios.map((r) => r.label).join(" | ")} |`,
      `| --- | --- | ${comparison.libraries.map(() => "---:").join(" | ")} | ${comparison.ratios.map(() => "---:").join(" | ")} |`,
      ...figures
        .filter((f) => f.table === table)
        .map(
          (f) =>
            `| ${f.figure} | ${f.unit} ${f.higherIsBetter ? "↑" : "↓"} | ${comparison.libraries.map((library) => cell(f, library)).join(" | ")} | ${comparison.ratios.map((r) => ratio(f, r.peer)).join(" | ")} |`,
        ),
      "",
    );
  }
  lines.push(comparison.footnote, "");

  // ---- goals
  const find = (key: string) => figures.find((f) => f.key === key);
  const goals: { goal: string; actual: string; met: boolean | null }[] = [];
  for (const spec of comparison.goals) {
    const f = find(spec.key);
    if (!f) continue;
    const q = spec.peer === undefined ? f.values[errand] : quotient(f, spec.peer);
    let actual = "n/a";
    if (q !== undefined) {
      actual = spec.peer === undefined ? `${q.toFixed(2)} ${f.unit}` : `${q.toFixed(2)}×`;
      // A goal on a ratio of times or costs reads better with both values beside it.
      const shown = (v: number) => (f.unit === "ms" ? v.toFixed(2) : formatNumber(v));
      if (spec.peer !== undefined && f.unit !== "jobs/s") actual += ` (${shown(f.values[errand]!)} vs ${shown(f.values[spec.peer]!)} ${f.unit})`;
    }
    const met = q === undefined ? null : (spec.atLeast === undefined || q >= spec.atLeast) && (spec.atMost === undefined || q <= spec.atMost);
    goals.push({ goal: spec.goal, actual, met });
  }
  for (const g of goals) lines.push(`goal: ${g.goal} — ${g.actual} ${g.met === null ? "(not measured)" : g.met ? "✔" : "✘"}`);
  lines.push("", `(${seconds.toFixed(0)} s)`);
  console.log(lines.join("\n"));

  // ---- JSON
  const details = (key: string) => {
    const spec = specs.find((s) => s.key === key);
    const byLibrary = spec && measured.get(measuredKey(spec));
    if (!byLibrary) return undefined;
    const out: Record<string, unknown> = {};
    for (const [library, runs] of Object.entries(byLibrary) as [string, M[]][]) {
      out[library] = runs.map(({ settings: _settings, ...rest }) => rest);
    }
    return out;
  };
  const report = {
    ...machineFacts(),
    versions: comparison.versions,
    ...comparison.environment,
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
  const partial =
    options.only !== undefined ||
    options.libraries.length < comparison.libraries.length ||
    Object.keys(options.tuning).length > 0 ||
    options.drainJobs !== comparison.defaultDrainJobs ||
    comparison.partial === true ||
    (comparison.fullRuns !== undefined && options.runs !== comparison.fullRuns);
  const file = partial ? comparison.results.replace(/\.json$/, ".partial.json") : comparison.results;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${relative(process.cwd(), file)}`);
}
