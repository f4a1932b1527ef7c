/**
 * A latency histogram that two processes can fill separately and the parent can merge:
 * logarithmic buckets 1 % wide from 1 µs up (a percentile is off by at most 1 %), stored
 * sparsely, so 150,000 samples travel over IPC as a few hundred numbers instead of all of
 * them.
 */

/** Width of a bucket: each is 1 % wider than the one before. */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** The lower edge of bucket 0, in ms (1 µs); anything below lands there. */
const FLOOR_MS = 0.001;

/** The plain form of a histogram (IPC, JSON). */
export interface HistogramData {
  /** Bucket index → samples in it. */
  buckets: Record<number, number>;
  count: number;
  sumMs: number;
  minMs: number;
  maxMs: number;
}

/** A mergeable latency histogram, values in ms. */
export class Histogram {
  private buckets = new Map<number, number>();
  count = 0;
  sumMs = 0;
  minMs = Infinity;
  maxMs = -Infinity;

  /** Adds one sample (negative values, from clock skew, count as 0). */
  record(ms: number): void {
    const value = Math.max(ms, 0);
    const index = value <= FLOOR_MS ? 0 : Math.floor(Math.log(value / FLOOR_MS) / LOG_GROWTH);
    this.buckets.set(index, (this.buckets.get(index) ?? 0) + 1);
    this.count++;
    this.sumMs += value;
    if (value < this.minMs) this.minMs = value;
    if (value > this.maxMs) this.maxMs = value;
  }

  /** Adds every sample of `other`. */
  merge(other: HistogramData): this {
    if (other.count === 0) return this;
    for (const [index, count] of Object.entries(other.buckets)) {
      const i = Number(index);
      this.buckets.set(i, (this.buckets.get(i) ?? 0) + count);
    }
    this.count += other.count;
    this.sumMs += other.sumMs;
    this.minMs = Math.min(this.minMs, other.minMs);
    this.maxMs = Math.max(this.maxMs, other.maxMs);
    return this;
  }

  /**
   * The `p`-th percentile (0–100) in ms, nearest rank: the middle of the bucket holding
   * that sample (within 0.5 % of it), clamped to the exact min and max.
   */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (const index of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(index)!;
      if (seen >= rank) {
        const middle = FLOOR_MS * GROWTH ** (index + 0.5);
        return Math.min(this.maxMs, Math.max(this.minMs, middle));
      }
    }
    return this.maxMs;
  }

  /** Mean in ms. */
  get meanMs(): number {
    return this.count === 0 ? NaN : this.sumMs / this.count;
  }

  /** Empties it. */
  reset(): void {
    this.buckets.clear();
    this.count = 0;
    this.sumMs = 0;
    this.minMs = Infinity;
    this.maxMs = -Infinity;
  }

  /** The plain form, for IPC (min and max 0 when empty: JSON has no Infinity). */
  toJSON(): HistogramData {
    const empty = this.count === 0;
    return { buckets: Object.fromEntries(this.buckets), count: this.count, sumMs: this.sumMs, minMs: empty ? 0 : this.minMs, maxMs: empty ? 0 : this.maxMs };
  }
}
