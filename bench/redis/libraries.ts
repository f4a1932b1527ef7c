/**
 * Errand-redis and BullMQ behind one small interface, each configured as its documentation
 * says to run it (see README.md, "Settings"). Each measurement opens a library under a key
 * prefix of its own (see store.ts), so no run sees another's keys.
 *
 * Jobs carry one number `n`; `onStart(n)` is called when the library calls the job's
 * function (Errand's `perform`, BullMQ's processor).
 */
import type { Redis } from "ioredis";

import type { Tuning } from "../lib/compare.js";
import type { AdapterCallEvents, LatencyTarget } from "../lib/scenarios.js";

export type LibraryName = "errand" | "bullmq";
export const LIBRARIES: readonly LibraryName[] = ["errand", "bullmq"];
export const BULLMQ_VERSION = "6.7.0";

export type { Tuning } from "../lib/compare.js";

/** What a scenario does with a library. */
export interface Library extends LatencyTarget {
  readonly name: LibraryName;
  /** The settings in use, for the JSON. */
  readonly settings: Record<string, unknown>;
  /** Enqueues jobs `from` … `from + count - 1` in one call of the library's bulk API. */
  enqueueBulk(from: number, count: number): Promise<void>;
  /** Enqueues one job (the library's single-job API). */
  enqueueOne(n: number): Promise<void>;
  /** Starts workers at `concurrency`. */
  startWorkers(concurrency: number, onStart: (n: number) => void): Promise<void>;
  /** Stops the workers (finishing what they hold); the library stays open for enqueues. */
  stopWorkers(): Promise<void>;
  /** True while some job is not yet recorded as finished in Redis (asked on the bench's own connection). */
  unfinished(observer: Redis): Promise<boolean>;
  /** Stops workers and ends every connection. */
  close(): Promise<void>;
  /** Errand only: its runtime's events, for `adapter:call` timings. */
  readonly events?: AdapterCallEvents;
}

const number = (tuning: Tuning, key: string, fallback: number) => (typeof tuning[key] === "number" ? (tuning[key] as number) : fallback);
const flag = (tuning: Tuning, key: string, fallback: boolean) => (typeof tuning[key] === "boolean" ? (tuning[key] as boolean) : fallback);

// --- Errand -------------------------------------------------------------------------

/**
 * Errand through its public API: `configure({ adapter: { use: "redis", url, prefix } })`,
 * `performLater`, `performAllLater`, `new Worker({ concurrency })`, the adapter's own
 * ioredis client with its defaults. Loaded lazily so BullMQ's side runs even when
 * `@errand/adapter-redis` is not built (the Errand column then says n/a).
 */
async function errand(url: string, prefix: string, tuning: Tuning): Promise<Library> {
  const core = await import("@errand/core");
  const { KeyLayout } = await import("@errand/adapter-redis");
  let onStart: (n: number) => void = () => {};
  class NoopJob extends core.Job<[n: number], void> {
    static override jobName = "NoopJob";
    async perform(n: number): Promise<void> {
      onStart(n);
    }
  }
  const adapter: Record<string, unknown> = { use: "redis", url, prefix };
  // Off by default: only to measure what it would change (`--tune '{"errand":{"autoPipelining":true}}'`).
  const autoPipelining = flag(tuning, "autoPipelining", false);
  if (autoPipelining) adapter.clientOptions = { enableAutoPipelining: true };
  if (typeof tuning.publishStatus === "boolean") adapter.publishStatus = tuning.publishStatus;
  const runtime = core.configure({ adapter: adapter as { use: "redis" }, jobs: [NoopJob], worker: { embedded: false } });
  // Builds the adapter (this is where a missing @errand/adapter-redis fails).
  await runtime.adapterFor();
  // NoopJob goes to the default queue, "default".
  const keys = new KeyLayout(prefix).queue("default");
  let worker: InstanceType<typeof core.Worker> | undefined;
  const workerOptions: Record<string, number> = {};
  if (typeof tuning.prefetch === "number") workerOptions.prefetch = tuning.prefetch;
  const { url: _url, ...shown } = adapter;
  return {
    name: "errand",
    settings: { adapter: { ...shown, prefix: "fresh per run" }, worker: { ...workerOptions, concurrency: "per figure" } },
    latencyGapMs: 2,
    enqueueBulk: async (from, count) => {
      await core.performAllLater(Array.from({ length: count }, (_, i) => new NoopJob(from + i)));
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
    // A job is finished once its settle script moved it out of `active` (succeeded jobs go to `finished`).
    unfinished: async (observer) => {
      const [ready, active] = await Promise.all([observer.zcard(keys.ready), observer.zcard(keys.active)]);
      return ready + active > 0;
    },
    events: runtime.events,
    close: async () => {
      await worker?.stop();
      await runtime.close();
    },
  };
}

// --- BullMQ -------------------------------------------------------------------------

/**
 * BullMQ as its guides set it up: a `Queue` to add jobs, a `Worker` with `concurrency`,
 * finished jobs trimmed by the worker's `removeOnComplete` / `removeOnFail` (the counts its
 * auto-removal guide gives as good practice), connections made by BullMQ from `{ url }`.
 */
async function bullmq(url: string, prefix: string, tuning: Tuning): Promise<Library> {
  const { Queue, Worker } = await import("bullmq");
  // ioredis auto-pipelining slowed BullMQ's worker in earlier measurements: off unless tuned on.
  const autoPipelining = flag(tuning, "autoPipelining", false);
  const connection = autoPipelining ? { url, enableAutoPipelining: true } : { url };
  // A negative count keeps every finished job (BullMQ's default without the option), for comparison.
  const keep = (key: string, fallback: number) => {
    const count = number(tuning, key, fallback);
    return count < 0 ? undefined : { count };
  };
  const removeOnComplete = keep("removeOnComplete", 1000);
  const removeOnFail = keep("removeOnFail", 5000);
  const queue = new Queue("noop", { connection, prefix });
  queue.on("error", () => undefined);
  await queue.waitUntilReady();
  let worker: { close(): Promise<void> } | undefined;
  return {
    name: "bullmq",
    settings: {
      connection: autoPipelining ? { enableAutoPipelining: true } : "defaults",
      prefix: "fresh per run",
      worker: { concurrency: "per figure", removeOnComplete: removeOnComplete ?? "keep all", removeOnFail: removeOnFail ?? "keep all" },
    },
    latencyGapMs: 2,
    enqueueBulk: async (from, count) => {
      await queue.addBulk(Array.from({ length: count }, (_, i) => ({ name: "noop", data: { n: from + i } })));
    },
    enqueueOne: async (n) => {
      await queue.add("noop", { n });
    },
    startWorkers: async (concurrency, onStart) => {
      const started = new Worker<{ n: number }>("noop", async (job) => onStart(job.data.n), {
        connection,
        prefix,
        concurrency,
        ...(removeOnComplete ? { removeOnComplete } : {}),
        ...(removeOnFail ? { removeOnFail } : {}),
      });
      // Its guides attach an error listener: without one an error event would crash the process.
      started.on("error", () => undefined);
      worker = started;
      await started.waitUntilReady();
    },
    stopWorkers: async () => {
      await worker?.close();
      worker = undefined;
    },
    // moveToFinished completes a job in one script: nothing is left behind once it is out of wait and active.
    unfinished: async () => (await queue.getJobCountByTypes("wait", "active", "prioritized", "delayed")) > 0,
    close: async () => {
      await worker?.close();
      await queue.close();
    },
  };
}

/** Opens a library under `prefix` (nothing else is there yet). */
export function openLibrary(name: LibraryName, url: string, prefix: string, tuning: Tuning = {}): Promise<Library> {
  return name === "errand" ? errand(url, prefix, tuning) : bullmq(url, prefix, tuning);
}

/** Why Errand cannot run, or undefined when `@errand/adapter-redis` is built and loads. */
export async function errandUnavailable(specifier = "@errand/adapter-redis"): Promise<string | undefined> {
  try {
    await import(specifier);
    return undefined;
  } catch (error) {
    return `n/a (adapter not built: ${(error as Error).message.split("\n")[0]})`;
  }
}
