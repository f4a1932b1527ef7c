/**
 * The stored id of the job instance the executor is building. A `Job` constructor draws a
 * new UUID; for a job restored from its payload that id would only be thrown away
 * (measured: ~1,500 instructions per job of a no-op drain, the hex string built by
 * concatenation and its garbage), so {@link restoreJob} hands the constructor the stored id
 * instead. Its own module so that `job.ts` and the executor need not import each other.
 * Both build through {@link constructJob}, which refuses a constructor that did not hand
 * its arguments on to `Job` (one that takes services).
 *
 * @module
 */

import { ConfigError } from "../errors.js";

let restoringClass: Function | undefined;
let restoringId: string | undefined;

/**
 * @internal called by the `Job` constructor: the id to take when `newTarget` is the class
 * {@link restoreJob} is building, once; `undefined` otherwise (a job its constructor makes
 * draws its own).
 */
export function takeRestoredId(newTarget: Function): string | undefined {
  if (restoringClass === undefined || newTarget !== restoringClass) return undefined;
  const id = restoringId;
  restoringClass = restoringId = undefined;
  return id;
}

/** @internal builds an instance of a stored job with its stored id, for the executor. */
export function restoreJob<J>(jobClass: Function, args: unknown[], jobId: string): J {
  restoringClass = jobClass;
  restoringId = jobId;
  try {
    return constructJob<J>(jobClass, args);
  } finally {
    restoringClass = restoringId = undefined;
  }
}

/**
 * @internal `new jobClass(...args)`, refusing a constructor that kept its arguments back: it
 * takes services, and needs the resolve hook (building.ts) or `JobClass.build`.
 */
export function constructJob<J>(jobClass: Function, args: unknown[]): J {
  const job = new (jobClass as unknown as new (...args: unknown[]) => J)(...args);
  const kept = (job as { arguments: unknown[] }).arguments.length;
  if (kept !== args.length) {
    throw new ConfigError(
      `${jobClass.name} was built with ${args.length} argument(s) but its constructor passed ${kept} to Job: a job whose constructor takes services needs the resolve hook in the Errand config (docs/dependency-injection.md), or build it for enqueueing with ${jobClass.name}.build(...args)`,
    );
  }
  return job;
}
