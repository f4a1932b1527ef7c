/**
 * Errand-redis and BullMQ behind one small interface, each configured as its documentation
 * says to run it (see README.md, "Settings"). Each measurement opens a library under a key
 * prefix of its own (see store.ts), so no run sees another's keys.
 *
 * Jobs carry one number `n`; `onStart(n)` is called when the library calls the job's
 * function (Errand's `perform`, BullMQ's processor).
 */
import type { AdapterOptionsSetting } from "@errand/core";
import type { Redis } from "ioredis";

import type { Tuning } from "../lib/compare.js";
import { openErrand } from "../lib/errand.js";
import type { BenchLibrary } from "../lib/scenarios.js";

export type LibraryName = "errand" | "bullmq";
export const LIBRARIES: readonly LibraryName[] = ["errand", "bullmq"];
export const BULLMQ_VERSION = "6.7.0";

export type { Tuning } from "../lib/compare.js";

/** What a scenario does with a library. */
export interface Library extends BenchLibrary<LibraryName> {
  /** True while some job is not yet recorded as finished in Redis (asked on the bench's own connection). */
  unfinished(observer: Redis): Promise<boolean>;
}

const number = (tuning: Tuning, key: string, fallback: number) => (typeof tuning[key] === "number" ? (tuning[key] as number) : fallback);
const flag = (tuning: Tuning, key: string, fallback: boolean) => (typeof tuning[key] === "boolean" ? (tuning[key] as boolean) : fallback);

// --- Errand -------------------------------------------------------------------------

/**
 * Errand-redis (see ../lib/errand.ts) under `prefix`, with the adapter's own ioredis client
 * and its defaults.
 */
async function errand(url: string, prefix: string, tuning: Tuning): Promise<Library> {
  const { KeyLayout } = await import("@errand/adapter-redis");
  const adapter: AdapterOptionsSetting = { use: "redis", url, prefix };
  // Off by default: only to measure what it would change (`--tune '{"errand":{"autoPipelining":true}}'`).
  if (flag(tuning, "autoPipelining", false)) adapter.clientOptions = { enableAutoPipelining: true };
  if (typeof tuning.publishStatus === "boolean") adapter.publishStatus = tuning.publishStatus;
  const { url: _url, ...shown } = adapter;
  const library = await openErrand(adapter, { ...shown, prefix: "fresh per run" }, tuning);
  // NoopJob goes to the default queue, "default".
  const keys = new KeyLayout(prefix).queue("default");
  return {
    ...library,
    // A job is finished once its settle script moved it out of `active` (succeeded jobs go to `finished`).
    unfinished: async (observer) => {
      // `prios` lists the priorities whose ready list has jobs: empty once nothing is ready.
      const [ready, active] = await Promise.all([observer.zcard(keys.prios), observer.zcard(keys.active)]);
      return ready + active > 0;
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
  // The flow bench's variants: `deduplication` gives every job `{ deduplication: { id: "<n>" } }`
  // (distinct ids: none is a duplicate); `limiterMax` (with `limiterDurationMs`, default 1000)
  // puts the queue's rate limiter on the worker.
  const dedup = flag(tuning, "deduplication", false);
  const opts = (n: number) => (dedup ? { opts: { deduplication: { id: String(n) } } } : {});
  const limiterMax = number(tuning, "limiterMax", 0);
  const limiter = limiterMax > 0 ? { limiter: { max: limiterMax, duration: number(tuning, "limiterDurationMs", 1000) } } : {};
  const queue = new Queue("noop", { connection, prefix });
  queue.on("error", () => undefined);
  await queue.waitUntilReady();
  let worker: { close(): Promise<void> } | undefined;
  return {
    name: "bullmq",
    settings: {
      connection: autoPipelining ? { enableAutoPipelining: true } : "defaults",
      prefix: "fresh per run",
      worker: { concurrency: "per figure", removeOnComplete: removeOnComplete ?? "keep all", removeOnFail: removeOnFail ?? "keep all", ...limiter },
      ...(dedup ? { jobOptions: { deduplication: { id: "<n>" } } } : {}),
    },
    latencyGapMs: 2,
    enqueueBulk: async (from, count) => {
      await queue.addBulk(Array.from({ length: count }, (_, i) => ({ name: "noop", data: { n: from + i }, ...opts(from + i) })));
    },
    enqueueOne: async (n) => {
      await queue.add("noop", { n }, opts(n).opts);
    },
    startWorkers: async (concurrency, onStart) => {
      const started = new Worker<{ n: number }>("noop", async (job) => onStart(job.data.n), {
        connection,
        prefix,
        concurrency,
        ...(removeOnComplete ? { removeOnComplete } : {}),
        ...(removeOnFail ? { removeOnFail } : {}),
        ...limiter,
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
