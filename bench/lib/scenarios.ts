/**
 * Child side of the benchmarks that compare Errand with other job libraries (PostgreSQL,
 * Redis): the scenarios they run and how each is measured (`measureScenario`: the timed
 * enqueues, the drain, the enqueue → start latency loop), a counter of job starts,
 * single-job enqueue lanes, and the log of Errand's adapter calls. What differs per backend
 * (the libraries under test, what "finished" means in its store, the server's costs) stays
 * in each benchmark's own libraries.ts and scenarios.ts, and comes in as a `StoreProbe`.
 */
import { TimedProfile, type ProfileParams } from "./profile.js";
import { collect, percentile, RssSampler } from "./stats.js";

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

/** A job library under test, as both benchmarks drive it; each benchmark's `Library` adds how its store tells that every job finished. */
export interface BenchLibrary<Name extends string = string> extends LatencyTarget {
  readonly name: Name;
  /** The settings in use, for the JSON. */
  readonly settings: Record<string, unknown>;
  /** Enqueues jobs `from` … `from + count - 1` in one call of the library's bulk API. */
  enqueueBulk(from: number, count: number): Promise<void>;
  /** Enqueues one job (the library's single-job API). */
  enqueueOne(n: number): Promise<void>;
  /** Starts workers at `concurrency`; `onStart(n)` is called when the library calls job `n`'s function. */
  startWorkers(concurrency: number, onStart: (n: number) => void): Promise<void>;
  /** Stops the workers (finishing what they hold); the library stays open for enqueues. */
  stopWorkers(): Promise<void>;
  /** Stops workers and ends every connection. */
  close(): Promise<void>;
  /** Errand only: its runtime's events, for `adapter:call` timings. */
  readonly events?: AdapterCallEvents;
}

/** What a child is asked to measure, besides the library and where its store is. */
export interface ScenarioParams extends ProfileParams {
  scenario: Scenario;
  /** Errand only: record every adapter call (`adapter:call` events) during the timed part. */
  adapterCalls?: boolean;
}

/**
 * The store's costs over one timed part, `C` (CPU of this process and of the server, WAL,
 * commands, …): `start()` runs just before the timed part, `stop(jobs)` just after it and
 * returns the costs per job.
 */
export interface CostMeter<C> {
  start(): Promise<void>;
  stop(jobs: number): Promise<C>;
}

/** The backend's side of a measurement. */
export interface StoreProbe<C> {
  /** A fresh meter of the store's costs, one per timed part. */
  costs(): CostMeter<C>;
  /** True while some job is not yet recorded as finished in the store (asked back to back at the end of a drain). */
  unfinished(): Promise<boolean>;
}

/**
 * What `measureScenario` returns and a child sends back; each benchmark's `Measurement`
 * extends it with what its store costs. Each kind of scenario sets its own fields.
 */
export interface ScenarioMeasurement {
  /** The headline: jobs/s, or the p50 in ms for latency. */
  value: number;
  ms: number;
  settings: Record<string, unknown>;
  // drain
  /** Jobs/s from `startWorkers()` (includes the library's start-up) until all finished in the store. */
  fromStartCallRate?: number;
  /** Jobs/s from the first job start until the last job start. */
  allStartedRate?: number;
  /** The drain hit its time cap: `value` is the rate of starts reached until then. */
  capped?: boolean;
  jobsDone?: number;
  peakRssMb?: number;
  /** CPU time of this process (the library and its clients) during the timed part, µs per job (from the benchmark's cost meter). */
  nodeCpuUsPerJob?: number;
  // latency
  p50?: number;
  p95?: number;
  p99?: number;
  max?: number;
  samples?: number;
  // Errand, with adapterCalls
  adapterCalls?: Record<string, CallStats>;
}

/**
 * Runs `params.scenario` on an open library: an enqueue kind enqueues its warm-up, then
 * times the rest; a drain warms up, enqueues, then times the workers draining it; latency
 * runs `measureLatency`. Timed parts start after a full GC, under the profiler and the
 * adapter-call log when `params` asks for them, and carry the store's costs `C` (not latency).
 * The caller supplies the store's side (`store`: its cost meter, and how to tell that every
 * job finished) and closes the library.
 */
export async function measureScenario<C extends object>(library: BenchLibrary, params: ScenarioParams, store: StoreProbe<C>): Promise<ScenarioMeasurement | (ScenarioMeasurement & C)> {
  const { scenario } = params;
  switch (scenario.kind) {
    case "bulk":
      await library.enqueueBulk(0, scenario.warmup);
      return timed(library, params, store, scenario.count, () => library.enqueueBulk(scenario.warmup, scenario.count));
    case "sequential":
    case "inflight": {
      const lanes = scenario.kind === "inflight" ? scenario.lanes : 1;
      await enqueueMany(library.enqueueOne, 0, scenario.warmup, lanes);
      return timed(library, params, store, scenario.count, () => enqueueMany(library.enqueueOne, scenario.warmup, scenario.count, lanes));
    }
    case "drain":
      return drain(library, scenario, params, store);
    case "latency":
      return { ...(await measureLatency(library, scenario)), settings: library.settings };
  }
}

/** Times `count` jobs' worth of `run`. */
async function timed<C extends object>(
  library: BenchLibrary,
  params: ScenarioParams,
  store: StoreProbe<C>,
  count: number,
  run: () => Promise<void>,
): Promise<ScenarioMeasurement & C> {
  const costs = store.costs();
  collect();
  const profile = new TimedProfile(params);
  const calls = params.adapterCalls ? recordCalls(library.events) : undefined;
  await costs.start();
  await profile.start();
  const started = performance.now();
  await run();
  const ms = performance.now() - started;
  await profile.stop();
  const result: ScenarioMeasurement & C = { value: (count / ms) * 1000, ms, settings: library.settings, ...(await costs.stop(count)) };
  const adapterCalls = calls?.();
  if (adapterCalls) result.adapterCalls = adapterCalls;
  return result;
}

/** Polls `store.unfinished()` back to back until every job is recorded as finished. */
async function untilFinished(library: BenchLibrary, store: StoreProbe<unknown>, ms = 30_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (await store.unfinished()) {
    if (performance.now() > deadline) throw new Error(`${library.name}: jobs still unfinished after ${ms} ms`);
    await sleep(1);
  }
}

async function drain<C extends object>(
  library: BenchLibrary,
  scenario: Extract<Scenario, { kind: "drain" }>,
  params: ScenarioParams,
  store: StoreProbe<C>,
): Promise<ScenarioMeasurement & C> {
  const { count, concurrency, warmup, capMs } = scenario;
  const starts = new Starts();
  // Warm-up: the same drain on a few jobs (JIT, connections, plans or scripts), then the workers stop.
  if (warmup > 0) {
    await library.enqueueBulk(0, warmup);
    await library.startWorkers(concurrency, starts.onStart);
    if (!(await starts.until(warmup, 20_000))) throw new Error(`${library.name}: the warm-up drain did not finish in 20 s`);
    await library.stopWorkers();
    starts.reset();
  }
  await library.enqueueBulk(warmup, count);
  collect();
  const profile = new TimedProfile(params);
  const calls = params.adapterCalls ? recordCalls(library.events) : undefined;
  const costs = store.costs();
  await costs.start();
  const rss = new RssSampler().start(50);
  await profile.start();
  const called = performance.now();
  await library.startWorkers(concurrency, starts.onStart);
  const all = await starts.until(count, capMs);
  const allStartedAt = performance.now();
  if (all) await untilFinished(library, store);
  const finished = performance.now();
  await profile.stop();
  const peakRssMb = rss.stop();
  const adapterCalls = calls?.();
  const done = Math.min(starts.count, count);
  const result: ScenarioMeasurement & C = {
    value: all ? count / ((finished - starts.first) / 1000) : done / ((allStartedAt - (starts.first || called)) / 1000),
    ms: finished - called,
    settings: library.settings,
    fromStartCallRate: done / ((finished - called) / 1000),
    allStartedRate: done / ((starts.last - starts.first) / 1000),
    capped: !all,
    jobsDone: done,
    peakRssMb,
    ...(await costs.stop(done)),
  };
  if (adapterCalls) result.adapterCalls = adapterCalls;
  return result;
}
