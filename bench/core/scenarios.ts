/**
 * The measurements. Each scenario runs in its own child process (see run.ts) so that one
 * figure's heap, JIT state and leftover timers cannot colour the next one, and returns
 * plain numbers.
 *
 * Every scenario configures a fresh runtime on the async adapter with the embedded pool
 * off (`worker: { embedded: false }`), so nothing runs unless the scenario starts a
 * `Worker` itself.
 */
import { batch, configure, Job, performAllLater, Worker, type Runtime } from "@errand/core";
import { SuperJSON } from "superjson";

import { TimedProfile, type ProfileParams } from "../lib/profile.js";
import { collect, percentile } from "../lib/stats.js";

export { collect } from "../lib/stats.js";
export type { ProfileParams } from "../lib/profile.js";

/** The job every scenario runs: one small argument, an empty `perform`, no result. */
export class NoopJob extends Job<[n: number], void> {
  async perform(_n: number): Promise<void> {}
}

/** The `onComplete` callback of the drain's batch (`DrainParams.batch`): empty, like `NoopJob`. */
export class BatchDoneJob extends Job<[], void> {
  async perform(): Promise<void> {}
}

const gc = (globalThis as { gc?: () => void }).gc;

function freshRuntime(): Runtime {
  return configure({ app: "bench", adapter: "async", worker: { embedded: false } });
}

/**
 * Counts `job:complete` events. `until(n)` resolves once `n` jobs have completed in all.
 *
 * Why not `worker.drained()`: it resolves only when a reserve *started after the last job
 * finished* comes back empty, and the reserve in flight at that moment (blocking backends)
 * or the poll pause (polling ones) waits the whole `pollInterval` (1 s) first — a second
 * added to every drain. See README, "Findings".
 *
 * While waiting, a ref'd interval keeps the process alive and fails the scenario when no job
 * completed for `stallMs`.
 */
class Completions {
  count = 0;
  private target = Infinity;
  private resolve: (() => void) | undefined;
  readonly off: () => void;

  constructor(runtime: Runtime) {
    this.off = runtime.events.on("job:complete", () => {
      if (++this.count >= this.target) this.resolve?.();
    });
  }

  until(target: number, stallMs = 30_000): Promise<void> {
    if (this.count >= target) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let last = this.count;
      const guard = setInterval(() => {
        if (this.count === last) {
          clearInterval(guard);
          reject(new Error(`stalled: ${this.count} of ${target} jobs completed, none in ${stallMs} ms`));
        }
        last = this.count;
      }, stallMs);
      this.target = target;
      this.resolve = () => {
        clearInterval(guard);
        this.target = Infinity;
        this.resolve = undefined;
        resolve();
      };
    });
  }
}

async function enqueueBulk(total: number, batch: number, offset = 0): Promise<void> {
  for (let start = 0; start < total; start += batch) {
    const jobs: NoopJob[] = [];
    const end = Math.min(total, start + batch);
    for (let i = start; i < end; i++) jobs.push(new NoopJob(offset + i));
    await performAllLater(jobs);
  }
}

// ---------------------------------------------------------------------------------------
// 1. Enqueue throughput

export interface EnqueueParams extends ProfileParams {
  mode: "sequential" | "inflight" | "bulk";
  jobs: number;
  /** Promises in flight (mode "inflight"). */
  inFlight?: number;
  /** Jobs per performAllLater call (mode "bulk"). */
  batch?: number;
}

async function enqueueRun(params: EnqueueParams, jobs: number): Promise<number> {
  const started = performance.now();
  switch (params.mode) {
    case "sequential":
      for (let i = 0; i < jobs; i++) await NoopJob.performLater(i);
      break;
    case "inflight": {
      let next = 0;
      const lane = async () => {
        while (next < jobs) await NoopJob.performLater(next++);
      };
      await Promise.all(Array.from({ length: params.inFlight ?? 32 }, lane));
      break;
    }
    case "bulk":
      await enqueueBulk(jobs, params.batch ?? 1000);
      break;
  }
  return performance.now() - started;
}

/** Jobs per second for one way of enqueuing (the store is fresh; nothing runs). */
export async function enqueueScenario(params: EnqueueParams): Promise<{ rate: number; ms: number }> {
  // Warm up on a throwaway runtime so the JIT has seen the whole path, then measure on a fresh one.
  let runtime = freshRuntime();
  await enqueueRun(params, Math.min(10_000, params.jobs));
  await runtime.close();
  runtime = freshRuntime();
  await runtime.adapterFor(); // build the adapter outside the timed part
  collect();
  const profiler = new TimedProfile(params);
  await profiler.start();
  const ms = await enqueueRun(params, params.jobs);
  await profiler.stop();
  await runtime.close();
  return { rate: (params.jobs / ms) * 1000, ms };
}

// ---------------------------------------------------------------------------------------
// 2. Drain throughput

export interface DrainParams extends ProfileParams {
  concurrency: number;
  jobs: number;
  /**
   * The jobs are enqueued as one `batch(jobs, { onComplete: [BatchDoneJob, []] })` instead of
   * `performAllLater` in thousands; the drain then ends when the callback ran too (batch.ts).
   */
  batch?: boolean;
}

/**
 * Longest time the event loop went without a turn: a `setImmediate` ticker notes the gap
 * between its runs. An embedded worker (the async adapter runs inside the app process)
 * that never yields blocks the app's HTTP handling and timers for that long.
 */
class StallMonitor {
  maxMs = 0;
  turns = 0;
  private last = 0;
  private running = false;

  start(): void {
    this.running = true;
    this.last = performance.now();
    const tick = () => {
      if (!this.running) return;
      this.note();
      this.turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
  }

  private note(): void {
    const now = performance.now();
    this.maxMs = Math.max(this.maxMs, now - this.last);
    this.last = now;
  }

  stop(): void {
    this.note();
    this.running = false;
  }
}

export interface DrainResult {
  /** Jobs/s from `worker.start()` until every job completed and its settlement was written. */
  rate: number;
  ms: number;
  /** Jobs/s until the last `job:complete` (settlements may still be queued in the worker). */
  completeRate: number;
  completeMs: number;
  /** Longest event-loop stall during the drain, ms. */
  maxStallMs: number;
  /** Event-loop turns during the drain. */
  loopTurns: number;
  /**
   * CPU time of the process (user + system, every thread) during the drain, ms. Unlike `ms`
   * it leaves out time spent waiting for a CPU, which on a shared machine is most of the noise.
   */
  cpuMs: number;
}

async function drainOnce(runtime: Runtime, concurrency: number, jobs: number, profiler?: TimedProfile, inBatch = false): Promise<DrainResult> {
  if (inBatch) await batch(Array.from({ length: jobs }, (_, i) => new NoopJob(i)), { onComplete: [BatchDoneJob, []] });
  else await enqueueBulk(jobs, 1000);
  // A batch's drain also runs its callback.
  const runs = inBatch ? jobs + 1 : jobs;
  const worker = new Worker({ runtime, concurrency });
  const completions = new Completions(runtime);
  const stalls = new StallMonitor();
  collect();
  await profiler?.start();
  stalls.start();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await worker.start();
  await completions.until(runs);
  const completeMs = performance.now() - started;
  // stop() returns once the worker's write-behind batcher has flushed every settlement;
  // nothing is running or buffered any more, so that is all it waits for.
  await worker.stop();
  const ms = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  stalls.stop();
  await profiler?.stop();
  completions.off();
  if (worker.processed !== runs) throw new Error(`drain: worker processed ${worker.processed} of ${runs} jobs`);
  return {
    rate: (jobs / ms) * 1000,
    ms,
    completeRate: (jobs / completeMs) * 1000,
    completeMs,
    maxStallMs: stalls.maxMs,
    loopTurns: stalls.turns,
    cpuMs: (user + system) / 1000,
  };
}

/**
 * Enqueues `jobs` no-op jobs, then times a worker from `start()` until every one completed
 * and was settled in the store.
 */
export async function drainScenario(params: DrainParams): Promise<DrainResult> {
  let runtime = freshRuntime();
  await drainOnce(runtime, params.concurrency, Math.min(10_000, params.jobs), undefined, params.batch); // warm-up
  await runtime.close();
  runtime = freshRuntime();
  const result = await drainOnce(runtime, params.concurrency, params.jobs, new TimedProfile(params), params.batch);
  await runtime.close();
  return result;
}

// ---------------------------------------------------------------------------------------
// 3. Enqueue → start latency

export interface LatencyParams {
  concurrency: number;
  jobs: number;
  warmup: number;
}

/**
 * A worker runs; jobs are enqueued one at a time with `performLater`, each once the previous
 * one has started. Latency = `job:start` time − time just before the `performLater` call.
 * Keyed by the job's argument (a sequence number): the job id is only known when
 * `performLater` resolves, which can be after the job started.
 */
export async function latencyScenario(params: LatencyParams): Promise<{ p50: number; p95: number; p99: number; max: number; mean: number }> {
  const runtime = freshRuntime();
  const worker = new Worker({ runtime, concurrency: params.concurrency });
  await worker.start();
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let onStart: (() => void) | undefined;
  runtime.events.on("job:start", ({ payload }) => {
    const now = performance.now();
    const n = (payload.args.json as number[])[0]!;
    const at = sentAt.get(n);
    if (at !== undefined) {
      sentAt.delete(n);
      if (n >= params.warmup) latencies.push(now - at);
    }
    const resolve = onStart;
    onStart = undefined;
    resolve?.();
  });
  collect();
  for (let n = 0; n < params.warmup + params.jobs; n++) {
    const started = new Promise<void>((resolve) => (onStart = resolve));
    sentAt.set(n, performance.now());
    await NoopJob.performLater(n);
    await started;
  }
  await worker.stop();
  await runtime.close();
  const sorted = latencies.sort((a, b) => a - b);
  const us = (ms: number) => ms * 1000;
  return {
    p50: us(percentile(sorted, 50)),
    p95: us(percentile(sorted, 95)),
    p99: us(percentile(sorted, 99)),
    max: us(sorted[sorted.length - 1]!),
    mean: us(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  };
}

// ---------------------------------------------------------------------------------------
// 4. The bare loop

const noop = async (_value: unknown): Promise<void> => {};

/**
 * What a job system cannot avoid: serialize the arguments with superjson, to JSON text and
 * back, and await the job's (no-op) function, one job after another.
 */
export async function bareLoopScenario(params: { jobs: number }): Promise<{ rate: number; ms: number }> {
  const run = async (jobs: number) => {
    const started = performance.now();
    for (let n = 0; n < jobs; n++) {
      const text = JSON.stringify(SuperJSON.serialize([n]));
      const args = SuperJSON.deserialize(JSON.parse(text) as Parameters<typeof SuperJSON.deserialize>[0]);
      await noop(args);
    }
    return performance.now() - started;
  };
  await run(Math.min(10_000, params.jobs));
  collect();
  const ms = await run(params.jobs);
  return { rate: (params.jobs / ms) * 1000, ms };
}

// ---------------------------------------------------------------------------------------
// 5. Memory

export interface MemoryParams {
  concurrency: number;
  /** Processed-job counts at which memory is sampled (after a full GC). */
  checkpoints: number[];
  batch: number;
}

export interface MemorySample {
  processed: number;
  rssMb: number;
  heapUsedMb: number;
}

/**
 * One worker; jobs are fed in batches of `batch` (performAllLater, then wait until they
 * completed), so only one batch is ever queued and what is left in memory is what processing left behind.
 */
export async function memoryScenario(params: MemoryParams): Promise<{ samples: MemorySample[] }> {
  if (!gc) throw new Error("memory scenario needs --expose-gc");
  const runtime = freshRuntime();
  const worker = new Worker({ runtime, concurrency: params.concurrency });
  const completions = new Completions(runtime);
  await worker.start();
  const samples: MemorySample[] = [];
  const checkpoints = [...params.checkpoints].sort((a, b) => a - b);
  let processed = 0;
  for (const checkpoint of checkpoints) {
    while (processed < checkpoint) {
      const size = Math.min(params.batch, checkpoint - processed);
      await enqueueBulk(size, size, processed);
      processed += size;
      await completions.until(processed);
    }
    await new Promise((resolve) => setImmediate(resolve)); // let the worker book the last completions and settle them
    if (worker.processed !== processed) throw new Error(`memory: worker processed ${worker.processed}, expected ${processed}`);
    collect();
    const usage = process.memoryUsage();
    samples.push({ processed, rssMb: usage.rss / 2 ** 20, heapUsedMb: usage.heapUsed / 2 ** 20 });
  }
  await worker.stop();
  await runtime.close();
  return { samples };
}

export const scenarios = {
  enqueue: enqueueScenario,
  drain: drainScenario,
  latency: latencyScenario,
  bare: bareLoopScenario,
  memory: memoryScenario,
} as const;

export type ScenarioName = keyof typeof scenarios;
