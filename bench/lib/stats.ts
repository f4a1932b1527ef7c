/** Small numeric and process helpers shared by the benchmarks. */

/** Median (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile of an ascending array (`p` in 0–100). */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** True when the process runs with `--expose-gc`. */
export const canCollect = gc !== undefined;

/** Full collection (twice, to also collect what finalizers released), when `--expose-gc` is on. */
export function collect(): void {
  gc?.();
  gc?.();
}

/** Samples `process.memoryUsage().rss` every `everyMs` and keeps the peak. */
export class RssSampler {
  peakBytes = 0;
  samples = 0;
  private timer: NodeJS.Timeout | undefined;

  start(everyMs = 50): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    return this;
  }

  private sample(): void {
    this.samples++;
    this.peakBytes = Math.max(this.peakBytes, process.memoryUsage().rss);
  }

  /** Stops sampling (after one last sample); returns the peak in MB. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peakBytes / 2 ** 20;
  }
}

/** `1234567` → `"1,234,567"`; small values with `digits` decimals. */
export function formatNumber(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) < 100) return value.toFixed(digits);
  return Math.round(value).toLocaleString("en-US");
}
