/**
 * A soak run's periods and the verdicts drawn from them (issue 14): latency p99 at the end
 * of the steady phase within 1.5× of its first minutes, storage bounded by retention, RSS
 * flat, and with a scheduled backlog the drain at most 20 % slower.
 *
 * The windows: "first minutes" are the steady phase's periods from the second on (the first
 * holds the start-up) spanning `min(120 s, steady phase / 4)`; "end" is as many of its last
 * periods. Storage is judged from the first window that begins once retention can have
 * acted (retention + one retention check after the start); a steady phase too short to
 * hold that window and a later end window is not judged (`met: null`), never passed.
 */
import { Histogram, type HistogramData } from "../realtime/histogram.js";
import type { StorageSample } from "./storage.js";

/** What a period is part of: the steady enqueue rate, the burst, the drain after it, the tail. */
export type Phase = "steady" | "burst" | "drain" | "tail";

/** One sampling period, as the JSON keeps it. */
export interface Period {
  /** End of the period, seconds since the soak's start. */
  t: number;
  phase: Phase;
  seconds: number;
  enqueued: number;
  started: number;
  /** Enqueue → start latency of the jobs started in the period, ms (NaN when none). */
  latency: { count: number; p50: number; p90: number; p99: number; max: number };
  storage: StorageSample;
  /** RSS in bytes: each worker, then the producer. */
  rss: { workers: number[]; producer: number };
}

/** One verdict line. */
export interface Verdict {
  check: string;
  value: string;
  /** null: the run could not judge it (too short); said in `value`. */
  met: boolean | null;
}

/** Latency figures of a merged histogram. */
export function latencyOf(histogram: Histogram): Period["latency"] {
  return { count: histogram.count, p50: histogram.percentile(50), p90: histogram.percentile(90), p99: histogram.percentile(99), max: histogram.count ? histogram.maxMs : NaN };
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "–");
const mb = (bytes: number) => `${fmt(bytes / 2 ** 20)} MB`;

/** The inputs of the verdicts. */
export interface VerdictInput {
  periods: Period[];
  /** Each period's merged histogram, by index in `periods`. */
  histograms: HistogramData[];
  periodMs: number;
  /** When storage can be bounded by retention: ms after the start (0 for SQS: acks delete). */
  settleMs: number;
  /** Drain rates, jobs/s, without and with the scheduled backlog (the variant only). */
  drain?: { baseline: number; withBacklog: number } | undefined;
}

/** The verdicts of a run. */
export function verdicts({ periods, histograms, periodMs, settleMs, drain }: VerdictInput): Verdict[] {
  const steady = periods.map((p, i) => ({ p, i })).filter(({ p }) => p.phase === "steady");
  const out: Verdict[] = [];
  const span = Math.max(1, Math.round(Math.min(120_000, (steady.length * periodMs) / 4) / periodMs));
  const first = steady.slice(1, 1 + span);
  const end = steady.slice(-span);
  const windows = steady.length >= 2 * span + 1;
  const merged = (part: typeof steady) => {
    const histogram = new Histogram();
    for (const { i } of part) histogram.merge(histograms[i]!);
    return histogram;
  };
  const windowText = `first ${span * (periodMs / 1000)} s after the first period vs the last ${span * (periodMs / 1000)} s of the steady phase`;
  if (!windows) {
    out.push({ check: "p99 latency at the end ≤ 1.5× the first minutes", value: `not judged: ${steady.length} steady periods`, met: null });
  } else {
    const a = merged(first).percentile(99);
    const b = merged(end).percentile(99);
    // Beside it, the median of the periods' own p99s: one slow period (another process took
    // the CPUs) moves a window's p99, a trend moves this too.
    const median = (part: typeof steady) => [...part.map(({ p }) => p.latency.p99)].sort((x, y) => x - y)[Math.floor(part.length / 2)]!;
    out.push({
      check: "p99 latency at the end ≤ 1.5× the first minutes",
      value: `${fmt(a)} ms → ${fmt(b)} ms (${fmt(b / a, 2)}×; ${windowText}; median of the periods' p99 ${fmt(median(first))} → ${fmt(median(end))} ms)`,
      met: b <= 1.5 * a,
    });
  }

  // Storage is compared over the periods after retention can act: their first and last
  // quarter-of-the-steady-phase windows, or halves when fewer remain (at least two periods
  // each). Two whole windows were asked for before, which a 4.5M-job Redis run at 31k jobs/s
  // (145 s steady, 7 periods after retention) missed by one.
  const settled = steady.filter(({ p }) => p.t * 1000 - periodMs >= settleMs);
  const storageSpan = Math.min(span, Math.floor(settled.length / 2));
  if (storageSpan < 2) {
    out.push({ check: "storage bounded by retention (end ≤ 1.25× once retention acts)", value: `not judged: the steady phase has ${settled.length} periods after retention can act (${settleMs / 1000} s), 4 needed`, met: null });
  } else {
    const a = mean(settled.slice(0, storageSpan).map(({ p }) => p.storage.bytes));
    const b = mean(settled.slice(-storageSpan).map(({ p }) => p.storage.bytes));
    const from = settled[0]!.p.t - periodMs / 1000;
    out.push({ check: "storage bounded by retention (end ≤ 1.25× once retention acts)", value: `${mb(a)} from ${fmt(from, 0)} s → ${mb(b)} at the end (${fmt(b / a, 2)}×)`, met: b <= 1.25 * a });
  }

  if (!windows) {
    out.push({ check: "RSS flat (end ≤ 1.25× the first minutes, each process)", value: `not judged: ${steady.length} steady periods`, met: null });
  } else {
    const series = [...steady[0]!.p.rss.workers.map((_, w) => ({ name: `worker ${w + 1}`, read: (p: Period) => p.rss.workers[w]! })), { name: "producer", read: (p: Period) => p.rss.producer }];
    const parts = series.map(({ name, read }) => {
      const a = mean(first.map(({ p }) => read(p)));
      const b = mean(end.map(({ p }) => read(p)));
      return { text: `${name} ${mb(a)} → ${mb(b)} (${fmt(b / a, 2)}×)`, met: b <= 1.25 * a };
    });
    out.push({ check: "RSS flat (end ≤ 1.25× the first minutes, each process)", value: parts.map((p) => p.text).join("; "), met: parts.every((p) => p.met) });
  }

  if (drain) {
    const slowdown = 1 - drain.withBacklog / drain.baseline;
    out.push({
      check: "drain with the scheduled backlog ≤ 20 % slower",
      value: `${fmt(drain.baseline, 0)} → ${fmt(drain.withBacklog, 0)} jobs/s (${fmt(100 * slowdown)} % slower)`,
      met: slowdown <= 0.2,
    });
  }
  return out;
}

/** A verdict as a printed line. */
export function verdictLine(v: Verdict): string {
  return `verdict: ${v.check} — ${v.value} ${v.met === null ? "(not judged)" : v.met ? "✔" : "✘"}`;
}
