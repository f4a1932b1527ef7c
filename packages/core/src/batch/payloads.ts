/**
 * The payloads of a batch, built by core before anything is stored (the adapter counts
 * them; `adapter/batch.ts`): the jobs' (`batch: { id }`) and the callbacks'
 * (`batch: { id, callback }`). One bad argument or refused class anywhere throws, and
 * nothing of the batch is stored.
 *
 * @module
 */
import type { BatchCallbackKind } from "../adapter/batch.js";
import type { JobPayload } from "../adapter/contract.js";
import type { AdapterClient } from "../backends/client.js";
import { ConfigError, UnsupportedError } from "../errors.js";
import { checkRetryPriorities } from "../job/capability-fit.js";
import { payloadFor } from "../job/enqueuing.js";
import type { Job } from "../job/job.js";
import { constructJob } from "../job/restoring.js";
import { definitionOf } from "../job/settings.js";
import { isJobClass } from "../job-mark.js";
import type { Runtime } from "../runtime.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJob = Job<any, any>;

/** Where a batch is being made, for messages: `"batch()"` or `"this.batch.add()"`. */
export type BatchCaller = "batch()" | "this.batch.add()";

/** The job instances given, checked: an array of jobs. */
export function checkJobs(jobs: unknown, caller: BatchCaller): readonly AnyJob[] {
  if (!Array.isArray(jobs)) throw new ConfigError(`${caller}: expected an array of jobs (new SomeJob(...args)), got ${describeValue(jobs)}`);
  jobs.forEach((job: unknown, index) => {
    if (typeof job !== "object" || job === null || !isJobClass(job.constructor)) {
      throw new ConfigError(`${caller}: jobs[${index}] is not a job instance (new SomeJob(...args) or SomeJob.build(...args)), got ${describeValue(job)}`);
    }
  });
  return jobs as readonly AnyJob[];
}

/**
 * The one adapter (config name, `undefined` for the default) every class of a batch uses:
 * a batch's record and counts live in one backend.
 * @throws ConfigError naming two classes pinned to different adapters.
 */
export function batchAdapter(classes: readonly Function[], caller: BatchCaller): string | undefined {
  const first = classes[0];
  if (first === undefined) return undefined;
  const adapter = definitionOf(first).adapter;
  for (const jobClass of classes) {
    const other = definitionOf(jobClass).adapter;
    if (other !== adapter) {
      throw new ConfigError(
        `${caller}: ${first.name} uses adapter ${adapter ?? "(default)"} but ${jobClass.name} uses ${other ?? "(default)"}; a batch lives in one backend, so its jobs and callbacks must use one adapter`,
      );
    }
  }
  return adapter;
}

/**
 * The payload of one job of batch `id`, as `performLater` would build it (queue, priority,
 * times from its class and `set()`), with `batch: { id }`.
 * @throws ConfigError for `set({ transaction })`: batch jobs are stored by `batch()` itself.
 */
export function memberPayload(job: AnyJob, id: string, runtime: Runtime, client: AdapterClient, caller: BatchCaller): JobPayload {
  const options = job.enqueueOptions;
  if (options.transaction !== undefined) {
    throw new ConfigError(`${caller}: ${job.constructor.name} has set({ transaction }); a batch's jobs are stored by ${caller} itself, between opening and sealing the batch, not in your transaction`);
  }
  const payload = payloadFor(job, options, runtime);
  checkRetryPriorities(definitionOf(job.constructor), payload.job, client.name, client.capabilities);
  payload.batch = { id };
  return payload;
}

/** A callback as `batch()` takes it: the job class and the arguments of its `perform`. */
export type CallbackSpec = readonly [jobClass: Function, args: readonly unknown[]];

/** True for `[JobClass, [args...]]`. */
export function isCallbackSpec(value: unknown): value is CallbackSpec {
  return Array.isArray(value) && value.length === 2 && isJobClass(value[0]) && Array.isArray(value[1]);
}

/**
 * The payload of batch `id`'s `kind` callback: a plain job the backend stores when the
 * batch finishes (`runAt` the batch's creation: it runs as soon as it is stored).
 * @throws UnsupportedError for a class with flow control (unique, concurrency or rate
 *   limits): the backend stores a callback as a plain ready job, so none would apply.
 */
export function callbackPayload(kind: BatchCallbackKind, spec: CallbackSpec, id: string, runtime: Runtime, client: AdapterClient): JobPayload {
  const [jobClass, args] = spec;
  const definition = definitionOf(jobClass);
  const option = `on${kind[0]!.toUpperCase()}${kind.slice(1)}`;
  if (definition.flow !== undefined) {
    throw new UnsupportedError(
      `batch(): ${option}: ${jobClass.name} has flow control (unique, limitConcurrency or rateLimit); a batch's callback is stored by the backend as a plain job when the batch finishes, so none of it would apply. Use a class without it`,
    );
  }
  const job: AnyJob =
    runtime.resolve === undefined ? constructJob<AnyJob>(jobClass, [...args]) : (jobClass as unknown as { build(...values: unknown[]): AnyJob }).build(...args);
  const payload = payloadFor(job, {}, runtime);
  checkRetryPriorities(definition, payload.job, client.name, client.capabilities);
  payload.batch = { id, callback: kind };
  // Never passes through enqueue's checks (the backend stores it): checked here.
  client.refuseUnstorable([payload]);
  return payload;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (typeof value === "object") return value.constructor?.name ? `a ${value.constructor.name}` : "an object";
  return JSON.stringify(value) ?? typeof value;
}
