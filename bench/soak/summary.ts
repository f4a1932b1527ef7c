/**
 * A run in one markdown table row, for the README's table: the load, latency at the start
 * and end of the steady phase, throughput, storage, worker RSS and the verdicts.
 */
import type { SoakOptions } from "./options.js";
import type { Period, Verdict } from "./verdict.js";

/** The table's header (two lines) and the run's row. */
export interface Summary {
  header: string;
  row: string;
}

const n = (v: number, digits = 0) => (Number.isFinite(v) ? v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "–");
const MB = 2 ** 20;

/** The summary of a run at `rate` with `periods` and `verdicts`. */
export function summaryRow(options: SoakOptions, rate: number, periods: Period[], verdicts: Verdict[]): Summary {
  const steady = periods.filter((p) => p.phase === "steady");
  const seconds = (ps: Period[]) => ps.reduce((s, p) => s + p.seconds, 0);
  const started = (ps: Period[]) => ps.reduce((s, p) => s + p.started, 0);
  const after = periods.filter((p) => p.phase === "burst" || p.phase === "drain");
  const maxOf = (ps: Period[], read: (p: Period) => number) => Math.max(...ps.map(read));
  const endRss = steady.at(-1)?.rss.workers ?? [];
  const marks = verdicts.map((v) => (v.met === null ? "–" : v.met ? "✔" : "✘")).join(" ");
  const header =
    "| backend | jobs + burst (scheduled) | rate, jobs/s | started/s, steady | p50 / p99 steady, ms | p99 burst + drain, ms | burst drained at, jobs/s | storage end of steady / max, MB | worker RSS end, MB | verdicts: p99, storage, RSS" +
    `${options.scheduled ? ", scheduled drain" : ""} |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |`;
  const medianOf = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
  const row =
    `| ${options.backend} | ${n(options.jobs)} + ${n(options.burst)}${options.scheduled ? ` (${n(options.scheduled)})` : ""} | ${n(rate)} | ${n(started(steady) / seconds(steady))} ` +
    `| ${n(medianOf(steady.map((p) => p.latency.p50)), 1)} / ${n(medianOf(steady.map((p) => p.latency.p99)), 1)} | ${n(maxOf(after, (p) => p.latency.p99), 0)} ` +
    `| ${n(started(after) / seconds(after))} | ${n((steady.at(-1)?.storage.bytes ?? NaN) / MB, 1)} / ${n(maxOf(periods, (p) => p.storage.bytes) / MB, 1)} ` +
    `| ${endRss.map((b) => n(b / MB)).join(" / ")} | ${marks} |`;
  return { header, row };
}
