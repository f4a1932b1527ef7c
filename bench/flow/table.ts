/**
 * The flow bench's figures and printout: the runs of each (backend, figure) folded into
 * medians per variant, one markdown table per backend with each Errand variant's ratio to
 * plain (the 15 % goal marked on the rates), and one for BullMQ on Redis, its variants
 * against its plain jobs and Errand's flow variants against BullMQ's.
 */
import type { ScenarioMeasurement } from "../lib/scenarios.js";
import { formatNumber, median } from "../lib/stats.js";
import { ERRAND_VARIANTS, type Backend, type Variant } from "./libraries.js";

export type FigureKind = "drain" | "enqueue";

/** A variant's rate is within the goal when it is at least this share of plain's (15 % slower at most). */
export const GOAL_SHARE = 0.85;

export interface Figure {
  backend: Backend;
  kind: FigureKind;
  /** `<backend>.<kind>` then `.rate`, `.nodeCpu`, `.serverCpu`, `.emulatorCpu`. */
  key: string;
  figure: string;
  unit: string;
  higherIsBetter: boolean;
  /** Median per variant. */
  values: Partial<Record<Variant, number>>;
  runs: Partial<Record<Variant, number[]>>;
}

export interface Goal {
  backend: Backend;
  figure: string;
  variant: Variant;
  /** The variant's rate ÷ plain's. */
  ratio: number;
  met: boolean;
}

type Field = "value" | "nodeCpuUsPerJob" | "serverCpuUsPerJob" | "emulatorCpuUsPerJob";

const SERVER: Record<Backend, string | undefined> = {
  async: undefined,
  redis: "redis-server",
  postgres: "PostgreSQL (all processes)",
  sqs: "redis-server (the status store)",
};

/** Medians per variant of the rate and the CPU figures of one (backend, figure). */
export function fold(backend: Backend, kind: FigureKind, jobs: number, concurrency: number, byVariant: Partial<Record<Variant, ScenarioMeasurement[]>>): Figure[] {
  const what = kind === "drain" ? `Drain ${formatNumber(jobs)} jobs, concurrency ${concurrency}` : `Enqueue ${formatNumber(jobs)} jobs in one bulk call`;
  const rows: [Field, string, string, boolean][] = [
    ["value", what, "jobs/s", true],
    ["nodeCpuUsPerJob", `CPU per job, ${kind === "drain" ? "worker" : "enqueuing"} process (${kind})`, "µs", false],
  ];
  const server = SERVER[backend];
  if (server) rows.push(["serverCpuUsPerJob", `CPU per job, ${server} (${kind})`, "µs", false]);
  if (backend === "sqs") rows.push(["emulatorCpuUsPerJob", `CPU per job, SQS emulator (${kind})`, "µs", false]);
  return rows.map(([field, figure, unit, higherIsBetter]) => {
    const out: Figure = { backend, kind, key: `${backend}.${kind}.${field === "value" ? "rate" : field.replace("UsPerJob", "")}`, figure, unit, higherIsBetter, values: {}, runs: {} };
    for (const [variant, measurements] of Object.entries(byVariant) as [Variant, ScenarioMeasurement[]][]) {
      const runs = measurements.map((m) => (m as unknown as Record<string, unknown>)[field]).filter((v): v is number => typeof v === "number");
      if (runs.length === 0) continue;
      out.runs[variant] = runs;
      out.values[variant] = median(runs);
    }
    return out;
  });
}

const cell = (figure: Figure, variant: Variant) => {
  const value = figure.values[variant];
  return value === undefined ? "–" : formatNumber(value);
};

/** `a ÷ b` as a cell, with the goal's mark on rates when `goal` is set. */
function ratioCell(figure: Figure, a: Variant, b: Variant, goal: boolean): string {
  const x = figure.values[a];
  const y = figure.values[b];
  if (x === undefined || y === undefined || y === 0) return "–";
  const ratio = x / y;
  const mark = goal && figure.higherIsBetter ? (ratio >= GOAL_SHARE ? " ✔" : " ✘") : "";
  return `${ratio.toFixed(2)}×${mark}`;
}

/** Prints the tables and goal lines; returns the goals (every Errand variant's rate ÷ plain). */
export function printTables(title: string, figures: Figure[]): Goal[] {
  const lines = [title, ""];
  const goals: Goal[] = [];
  const backends = [...new Set(figures.map((f) => f.backend))];
  const flow = ERRAND_VARIANTS.filter((v) => v !== "plain");
  for (const backend of backends) {
    const rows = figures.filter((f) => f.backend === backend && ERRAND_VARIANTS.some((v) => f.values[v] !== undefined));
    if (rows.length === 0) continue;
    lines.push(
      `### ${backend}`,
      "",
      `| figure | unit | ${ERRAND_VARIANTS.join(" | ")} | ${flow.map((v) => `${v} ÷ plain`).join(" | ")} |`,
      `| --- | --- | ${ERRAND_VARIANTS.map(() => "---:").join(" | ")} | ${flow.map(() => "---:").join(" | ")} |`,
    );
    for (const f of rows) {
      lines.push(
        `| ${f.figure} | ${f.unit} ${f.higherIsBetter ? "↑" : "↓"} | ${ERRAND_VARIANTS.map((v) => cell(f, v)).join(" | ")} | ${flow.map((v) => ratioCell(f, v, "plain", true)).join(" | ")} |`,
      );
      if (!f.higherIsBetter) continue;
      for (const variant of flow) {
        const x = f.values[variant];
        const y = f.values.plain;
        if (x !== undefined && y !== undefined && y > 0) goals.push({ backend, figure: f.figure, variant, ratio: x / y, met: x / y >= GOAL_SHARE });
      }
    }
    lines.push("");
  }
  const bull = figures.filter((f) => f.values.bullmq !== undefined || f.values["bullmq-dedup"] !== undefined);
  if (bull.length > 0) {
    lines.push(
      `### BullMQ (redis)`,
      "",
      "| figure | unit | bullmq | bullmq-dedup | bullmq-limiter | dedup ÷ bullmq | limiter ÷ bullmq | Errand unique ÷ BullMQ dedup | Errand rate ÷ BullMQ limiter |",
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const f of bull) {
      lines.push(
        `| ${f.figure} | ${f.unit} ${f.higherIsBetter ? "↑" : "↓"} | ${cell(f, "bullmq")} | ${cell(f, "bullmq-dedup")} | ${cell(f, "bullmq-limiter")} | ` +
          `${ratioCell(f, "bullmq-dedup", "bullmq", false)} | ${ratioCell(f, "bullmq-limiter", "bullmq", false)} | ` +
          `${ratioCell(f, "unique", "bullmq-dedup", false)} | ${ratioCell(f, "rate", "bullmq-limiter", false)} |`,
      );
    }
    lines.push("");
  }
  lines.push(
    `↑ higher is better, ↓ lower is better. Goal: a flow variant's rate at least ${GOAL_SHARE} × plain's (within 15 %): ✔ met, ✘ missed. ` +
      "No limit binds (see README): the ratios are the cost of deciding. BullMQ's per-group concurrency is BullMQ Pro only (not measured).",
    "",
  );
  for (const g of goals) lines.push(`goal: ${g.backend} ${g.figure}, ${g.variant} ≥ ${GOAL_SHARE} × plain — ${g.ratio.toFixed(2)}× ${g.met ? "✔" : "✘"}`);
  console.log(lines.join("\n"));
  return goals;
}
