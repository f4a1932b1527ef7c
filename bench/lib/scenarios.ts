/**
 * Child-side pieces shared by the benchmarks that compare Errand with other job libraries
 * (PostgreSQL, Redis): the scenarios they run, a counter of job starts, single-job enqueue
 * lanes, the enqueue → start latency loop, and the log of Errand's adapter calls. What
 * differs per backend (the library under test, what "finished" means in its store, the
 * server's costs) stays in each benchmark's own scenarios.ts.
 */
import { collect, percentile } from "./stats.js";

/** One measurement. Every kind enqueues no-op jobs that carry one number. */
export type Scenario =
  | { kind: "bulk"; count: number; warmup: number }
  | { kind: "sequential"; count: number; warmup: number }
  | { kind: "inflight"; count: number; lanes: number; warmup: number }
  | { kind: "drain"; count: number; concurrency: number; warmup: number; capMs: number }
  | { kind: "latency"; count: number; concurrency: number; warmup: number; capMs: number };

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Counts job starts. `until(n, ms)` resolves once `n` jobs started in all, or after `ms`
 * (then `reached` is false).
 */
export class Starts {
  count = 0;
  first = 0;
  last = 0;
  private target = Infinity;
  private done: (() => void) | undefined;

  readonly onStart = (): void => {
    const now = performance.now();
    if (this.count++ === 0) this.first = now;
    this.last = now;
    if (this.count >= this.target) this.done?.();
  };

  reset(): void {
    this.count = 0;
    this.first = 0;
    this.last = 0;
  }

  until(target: number, ms: number): Promise<boolean> {
    if (this.count >= target) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), ms);
      const finish = (reached: boolean) => {
        clearTimeout(timer);
        this.done = undefined;
        this.target = Infinity;
        resolve(reached);
      };
      this.target = target;
      this.done = () => finish(true);
    });
  }
}

/** Enqueues jobs `from` … `from + count - 1` one call each, from `lanes` concurrent callers. */
export async function enqueueMany(enqueueOne: (n: number) => Promise<void>, from: number, count: number, lanes: number): Promise<void> {
  let next = from;
  const end = from + count;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < end) await enqueueOne(next++);
    }),
  );
}

/** What the latency loop needs of a library. */
export interface LatencyTarget {
  readonly name: string;
  /**
   * The loop waits a random 0–`latencyGapMs` before each enqueue, so enqueues do not fall in
   * step with a polling loop (a library that is woken by the store does not care).
   */
  readonly latencyGapMs: number;
  startWorkers(concurrency: number, onStart: (n: number) => void): Promise<void>;
  enqueueOne(n: number): Promise<void>;
}

export interface LatencyResult {
  /** The p50, ms. */
  value: number;
  ms: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  samples: number;
}

/**
 * Enqueue → start latency: idle workers at `concurrency`, then one job at a time, each
 * enqueued after the previous one started. Latency is the start minus `performance.now()`
 * just before the enqueue call.
 */
export async function measureLatency(library: LatencyTarget, scenario: Extract<Scenario, { kind: "latency" }>): Promise<LatencyResult> {
  const { count, concurrency, warmup, capMs } = scenario;
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  /** The first measured job (after the warm-up). */
  let first = warmup;
  let waiting: { n: number; resolve: () => void } | undefined;
  await library.startWorkers(concurrency, (n) => {
    const now = performance.now();
    const at = sentAt.get(n);
    if (at !== undefined && n >= first) latencies.push(now - at);
    if (waiting?.n === n) waiting.resolve();
  });
  await sleep(200); // let the workers reach their idle wait
  collect();
  // The warm-up ends after `warmup` jobs or 2 s; the measured part after `count` jobs or
  // `capMs` (a polling library gets fewer samples), but never before 20 samples.
  let began = performance.now();
  for (let n = 0; n < first + count; n++) {
    if (n < first && performance.now() - began > 2_000) first = n;
    if (n === first) began = performance.now();
    if (n >= first + 20 && performance.now() - began > capMs) break;
    // A random pause first, so enqueues are not in step with a polling loop.
    await sleep(Math.random() * library.latencyGapMs);
    const started = new Promise<void>((resolve) => (waiting = { n, resolve }));
    sentAt.set(n, performance.now());
    await library.enqueueOne(n);
    const timeout = sleep(10_000).then(() => {
      throw new Error(`${library.name}: job ${n} did not start within 10 s`);
    });
    await Promise.race([started, timeout]);
  }
  const sorted = latencies.sort((a, b) => a - b);
  return {
    value: percentile(sorted, 50),
    ms: performance.now() - began,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1]!,
    samples: sorted.length,
  };
}

/** One operation's adapter calls during the timed part. */
export interface CallStats {
  calls: number;
  /** Jobs (or rows) the calls carried in all. */
  items: number;
  totalMs: number;
  maxMs: number;
}

/** The part of Errand's event emitter the call log uses. */
export interface AdapterCallEvents {
  on(event: "adapter:call", listener: (call: { operation: string; durationMs: number; count: number }) => void): () => void;
}

/** Records Errand's adapter calls (`adapter:call` events) until the returned function is called; undefined without events (a peer library). */
export function recordCalls(events: AdapterCallEvents | undefined): (() => Record<string, CallStats>) | undefined {
  if (!events) return undefined;
  const stats: Record<string, CallStats> = {};
  const off = events.on("adapter:call", ({ operation, durationMs, count }) => {
    const entry = (stats[operation] ??= { calls: 0, items: 0, totalMs: 0, maxMs: 0 });
    entry.calls++;
    entry.items += count;
    entry.totalMs += durationMs;
    entry.maxMs = Math.max(entry.maxMs, durationMs);
  });
  return () => {
    off();
    return stats;
  };
}
