/**
 * `batch(jobs, options)`: enqueue jobs as one batch, with callback jobs the backend
 * enqueues exactly once when every job of the batch has finished (docs/batches.md). Core
 * builds every payload; the counting, and the enqueue of the callbacks in the same atomic
 * step as the settle that finishes the batch, are the adapter's (`adapter/batch.ts`).
 *
 * The steps: check everything and build every payload (a bad argument or a refused class
 * throws, nothing stored) → `openBatches` → enqueue the jobs, cut in chunks of the
 * adapter's `maxBatchSize` by the adapter client → `sealBatches`. A failure after the open
 * leaves the batch open, never finishing: the error reaches the caller, who may retry with
 * a new batch.
 *
 * @module
 */
import type { BatchCallbackKind, BatchRecord } from "../adapter/batch.js";
import type { NewBatch } from "../adapter/contract.js";
import { lacksCapability } from "../backends/storable.js";
import { rules, validateOptions, type OptionSchema } from "../config/validate.js";
import { ConfigError, UnsupportedError } from "../errors.js";
import { uuidv7 } from "../ids.js";
import type { Job, JobArgs } from "../job/job.js";
import { currentRuntime } from "../runtime.js";
import { batchAdapter, callbackPayload, checkJobs, isCallbackSpec, memberPayload, type CallbackSpec } from "./payloads.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJob = Job<any, any>;

/**
 * A batch callback: a job class and the arguments of its `perform`, checked by the
 * compiler: `[NotifyJob, [user]]`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type BatchCallback<J extends AnyJob> = readonly [jobClass: new (...args: any[]) => J, args: JobArgs<J>];

/** Options of {@link batch}. Each callback is enqueued at most once, when the batch finishes. */
export interface BatchOptions<S extends AnyJob = AnyJob, C extends AnyJob = AnyJob, F extends AnyJob = AnyJob> {
  /** Enqueued when every job succeeded (none discarded, none dead; a dead job retried by hand that then succeeds counts). */
  onSuccess?: BatchCallback<S>;
  /** Enqueued when every job has finished, whatever the outcome. */
  onComplete?: BatchCallback<C>;
  /** Enqueued when every job has finished and at least one was discarded or is dead. */
  onFailure?: BatchCallback<F>;
  /** Free text for people (the dashboard, `batch.status`). */
  description?: string;
}

const callbackRule = { expected: "[JobClass, [args of its perform]]", test: isCallbackSpec };

/** The kinds of {@link BatchOptions}: an unknown key is a `ConfigError` naming the nearest valid one. */
const BATCH_OPTIONS_SCHEMA: OptionSchema<BatchOptions> = {
  onSuccess: callbackRule,
  onComplete: callbackRule,
  onFailure: callbackRule,
  description: rules.string,
};

/** Options of {@link batch.status}. */
export interface BatchStatusOptions {
  /** The configured adapter holding the batch (its jobs' classes' `useAdapter`). Default: the default adapter. */
  adapter?: string;
}

const STATUS_OPTIONS_SCHEMA: OptionSchema<BatchStatusOptions> = { adapter: rules.nonEmptyString };

/** {@link batch}, with `status`. */
export interface BatchFunction {
  /**
   * Enqueues `jobs` (instances, as `performAllLater` takes them, `set()` options kept) as one
   * batch and resolves to its id. `jobs` may be empty: the batch then finishes at once and
   * its callbacks are enqueued. Enqueue callbacks (`beforeEnqueue`…) do not run, as for
   * `performAllLater`.
   * @throws ConfigError for an unknown option, a callback that is not `[JobClass, args]`,
   *   jobs of classes pinned to different adapters, a job with `set({ transaction })`.
   * @throws UnsupportedError when the adapter has no `batches` capability, or a callback
   *   class has flow control.
   * @example
   * const batchId = await batch([new ImportRowsJob(file, 0), new ImportRowsJob(file, 1)], {
   *   onSuccess: [NotifyJob, [user]],
   *   description: "import of users.csv",
   * });
   */
  <S extends AnyJob = AnyJob, C extends AnyJob = AnyJob, F extends AnyJob = AnyJob>(jobs: readonly AnyJob[], options?: BatchOptions<S, C, F>): Promise<string>;
  /**
   * A batch's record — state, counts (total, pending, succeeded, discarded, dead, failed
   * runs), the ids of the callbacks enqueued — or `null` for an unknown or expired id.
   */
  status(id: string, options?: BatchStatusOptions): Promise<BatchRecord | null>;
}

const CALLBACK_KINDS: readonly BatchCallbackKind[] = ["success", "complete", "failure"];
const OPTION_OF = { success: "onSuccess", complete: "onComplete", failure: "onFailure" } as const;

async function createBatch(jobsGiven: readonly AnyJob[], options: BatchOptions = {}): Promise<string> {
  const jobs = checkJobs(jobsGiven, "batch()");
  validateOptions(options, BATCH_OPTIONS_SCHEMA, "the batch() options");
  const specs: [BatchCallbackKind, CallbackSpec][] = [];
  for (const kind of CALLBACK_KINDS) {
    const spec = options[OPTION_OF[kind]] as CallbackSpec | undefined;
    if (spec !== undefined) specs.push([kind, spec]);
  }
  const runtime = currentRuntime();
  const adapter = batchAdapter([...jobs.map((job) => job.constructor), ...specs.map(([, spec]) => spec[0])], "batch()");
  const client = await runtime.adapterFor(adapter);
  if (!client.capabilities.batches) throw new UnsupportedError(`batch(): ${lacksCapability(client, "batches", "does not support batches")}`);
  const id = uuidv7();
  const callbacks: NewBatch["callbacks"] = {};
  for (const [kind, spec] of specs) callbacks[kind] = callbackPayload(kind, spec, id, runtime, client);
  const payloads = jobs.map((job) => memberPayload(job, id, runtime, client, "batch()"));
  const record: NewBatch = { id, callbacks, createdAt: new Date().toISOString() };
  if (options.description !== undefined) record.description = options.description;
  await client.openBatches([record]);
  if (payloads.length > 0) {
    const stored = await client.enqueue(payloads);
    jobs.forEach((job, index) => {
      job.jobId = stored[index]!.jobId;
      job.providerJobId = stored[index]!.providerJobId;
    });
  }
  await client.sealBatches([id]);
  return id;
}

/** Reads a batch's record from `adapter` (the default one when not given). */
export async function batchStatus(id: string, options: BatchStatusOptions = {}): Promise<BatchRecord | null> {
  validateOptions(options, STATUS_OPTIONS_SCHEMA, "the batch.status() options");
  if (typeof id !== "string" || id.length === 0) throw new ConfigError(`batch.status(): expected a batch id (a non-empty string), got ${String(id)}`);
  const client = await currentRuntime().adapterFor(options.adapter);
  const [record] = await client.getBatches([id]);
  return record ?? null;
}

/**
 * Enqueues jobs as one batch, with callbacks enqueued exactly once when all have finished;
 * `batch.status(id)` reads its record. See {@link BatchFunction}.
 */
export const batch: BatchFunction = Object.assign(
  <S extends AnyJob = AnyJob, C extends AnyJob = AnyJob, F extends AnyJob = AnyJob>(jobs: readonly AnyJob[], options?: BatchOptions<S, C, F>): Promise<string> =>
    createBatch(jobs, options as BatchOptions | undefined),
  { status: batchStatus },
);
