/**
 * `watchStatus`: a job's status as an async iterable — the current status first, then
 * every change, ending after `succeeded`, `failed` or `dead`. Every watcher in a process
 * shares its adapter's one backend subscription (see `hub.ts`).
 *
 * @module
 */
import { rules, validateOptions, type OptionSchema } from "../config/validate.js";
import { currentRuntime, type Runtime } from "../runtime.js";
import type { JobStatus } from "../status.js";
import { hubFor } from "./hub.js";
import { SnapshotWatcher } from "./watcher.js";

/** Options of {@link watchStatus}. */
export interface WatchStatusOptions {
  /** Stops watching: the iteration throws the signal's reason (an `AbortError`). */
  signal?: AbortSignal;
  /** Named adapter (`adapters.<name>`); default: the default adapter. */
  adapter?: string;
  /** The runtime to use; default: the current one. */
  runtime?: Runtime;
}

const WATCH_SCHEMA: OptionSchema<WatchStatusOptions> = {
  signal: rules.withMethods("an AbortSignal", "addEventListener", "removeEventListener"),
  adapter: rules.nonEmptyString,
  runtime: rules.withMethods("a Runtime", "adapterFor"),
};

/** The options of `SomeJob.watch(jobId, options)`: the adapter is the job class's. */
export const JOB_WATCH_SCHEMA: OptionSchema<Pick<WatchStatusOptions, "signal">> = { signal: WATCH_SCHEMA.signal };

/**
 * Watches a job's status: yields the current status at once, then each change, and ends
 * after a terminal state. Progress reported faster than it is read is coalesced (latest
 * wins); a state change is never skipped. Breaking out of the loop stops watching.
 * @example
 * for await (const status of watchStatus(jobId)) {
 *   console.log(status.state, status.progress?.fraction);
 * }
 * @throws JobNotFoundError when the job has no status (unknown id, or expired);
 *   `ConnectionError` when the backend cannot be reached to subscribe;
 *   `AdapterClosedError` when the runtime closes while watching.
 */
export function watchStatus(jobId: string, options: WatchStatusOptions = {}): AsyncIterableIterator<JobStatus> {
  validateOptions(options, WATCH_SCHEMA, "the watchStatus options");
  if (typeof jobId !== "string" || jobId.length === 0) {
    throw new TypeError(`watchStatus: jobId must be a non-empty string, got ${typeof jobId === "string" ? '""' : typeof jobId}`);
  }
  return watchGenerator(jobId, options);
}

async function* watchGenerator(jobId: string, options: WatchStatusOptions): AsyncGenerator<JobStatus, void, undefined> {
  const client = await (options.runtime ?? currentRuntime()).adapterFor(options.adapter);
  const watcher = new SnapshotWatcher(client, jobId, options.signal);
  try {
    for (;;) {
      const snapshot = await watcher.next();
      if (!snapshot) return;
      yield snapshot.status;
    }
  } finally {
    watcher.close();
  }
}

/**
 * How many jobs this process watches on an adapter, with how many watchers (each
 * `watchStatus` loop and each open event stream is one), and whether it holds the adapter's
 * status subscription (kept 2 s after the last watcher leaves): for dashboards, and for
 * tests that check a closed stream let go of its watcher.
 */
export async function statusWatchers(options: Omit<WatchStatusOptions, "signal"> = {}): Promise<{ jobs: number; watchers: number; subscribed: boolean }> {
  validateOptions(options, WATCH_SCHEMA, "the statusWatchers options");
  const client = await (options.runtime ?? currentRuntime()).adapterFor(options.adapter);
  return hubFor(client).size;
}
