/**
 * Errand as a library under test, shared by the benchmarks that compare it with other job
 * libraries (PostgreSQL, Redis). Each benchmark brings the adapter settings and adds how
 * its store tells that every job finished.
 */
import type { AdapterOptionsSetting } from "@errand/core";
import type { QueueInfo } from "@errand/core/adapter";

import type { Tuning } from "./compare.js";
import type { BenchLibrary } from "./scenarios.js";

/**
 * Errand through its public API: `configure({ adapter })`, `performLater`, `performAllLater`,
 * `new Worker({ concurrency })` (`tuning.prefetch` passed on when set), with one no-op job
 * class, `NoopJob`, on the default queue. The caller supplies `adapter` as `configure` takes
 * it and `shown`, what of it the JSON shows (no URL); `statics` are set on `NoopJob` before
 * the runtime sees it (static twins of job decorators, e.g. `{ unique: { while: "active" } }`). The adapter is built and migrated here,
 * untimed; `@errand/core` is loaded lazily, so a benchmark's peers run even when Errand's
 * adapter is not built (this is then where it fails).
 *
 * `tuning.batch` (true): each bulk enqueue is one `batch(jobs, { onComplete })` instead of
 * `performAllLater`, its callback a no-op `BatchDoneJob` on the same queue (not counted as a
 * start): what a batch adds to a drain (bench/redis/batch.ts).
 */
export async function openErrand(
  adapter: AdapterOptionsSetting,
  shown: Record<string, unknown>,
  tuning: Tuning,
  statics: Record<string, unknown> = {},
): Promise<ErrandLibrary> {
  const core = await import("@errand/core");
  let onStart: (n: number) => void = () => {};
  class NoopJob extends core.Job<[n: number], void> {
    static override jobName = "NoopJob";
    async perform(n: number): Promise<void> {
      onStart(n);
    }
  }
  class BatchDoneJob extends core.Job<[], void> {
    static override jobName = "BatchDoneJob";
    async perform(): Promise<void> {}
  }
  // Static settings (the flow bench's `unique`, `concurrencyLimit`, `rateLimit`), read when the class is first used.
  Object.assign(NoopJob, statics);
  const runtime = core.configure({ adapter, jobs: [NoopJob, BatchDoneJob], worker: { embedded: false } });
  const inBatch = tuning.batch === true;
  // Builds the adapter (this is where a missing adapter package fails) and migrates (a no-op for an adapter without migrations).
  await (await runtime.adapterFor()).migrate();
  let worker: InstanceType<typeof core.Worker> | undefined;
  const workerOptions: Record<string, number> = {};
  if (typeof tuning.prefetch === "number") workerOptions.prefetch = tuning.prefetch;
  return {
    name: "errand",
    settings: { adapter: shown, worker: { ...workerOptions, concurrency: "per figure" }, ...(inBatch ? { enqueueBulk: "batch(jobs, { onComplete })" } : {}) },
    latencyGapMs: 2,
    enqueueBulk: async (from, count) => {
      const jobs = Array.from({ length: count }, (_, i) => new NoopJob(from + i));
      if (inBatch) await core.batch(jobs, { onComplete: [BatchDoneJob, []] });
      else await core.performAllLater(jobs);
    },
    enqueueBatch: async (from, count) => {
      await core.batch(Array.from({ length: count }, (_, i) => new NoopJob(from + i)), { onComplete: [NoopJob, [-1]], description: "bench" });
    },
    enqueueOne: async (n) => {
      await NoopJob.performLater(n);
    },
    startWorkers: async (concurrency, handler) => {
      onStart = handler;
      worker = new core.Worker({ runtime, concurrency, ...workerOptions });
      await worker.start();
    },
    stopWorkers: async () => {
      await worker?.stop();
      worker = undefined;
    },
    events: runtime.events,
    listQueues: async () => (await runtime.adapterFor()).listQueues(),
    close: async () => {
      await worker?.stop();
      await runtime.close();
    },
  };
}

/** Errand as a library under test, and the adapter's queue counts (for a backend without a cheaper "finished" probe). */
export interface ErrandLibrary extends BenchLibrary<"errand"> {
  listQueues(): Promise<QueueInfo[]>;
  /** `count` jobs as one batch (`batch()`), numbered from `from`, with an `onComplete` callback: a `NoopJob` of argument −1. */
  enqueueBatch(from: number, count: number): Promise<void>;
}

/** Why Errand cannot run, or undefined when its adapter package (`specifier`, e.g. `@errand/adapter-postgres`) is built and loads. */
export async function errandUnavailable(specifier: string): Promise<string | undefined> {
  try {
    await import(specifier);
    return undefined;
  } catch (error) {
    return `n/a (adapter not built: ${(error as Error).message.split("\n")[0]})`;
  }
}
