/**
 * What the status endpoints send, the options of `watchJob`, and the error it rejects with.
 *
 * @module
 */

/**
 * Where a job is in its life. `succeeded`, `failed` (discarded) and `dead` are final: a job
 * never leaves them. `retrying` means it failed and will run again.
 */
export type JobState = "scheduled" | "queued" | "running" | "succeeded" | "retrying" | "failed" | "dead";

/** A job's status as the server's JSON and event-stream endpoints send it. */
export interface JobStatusJSON {
  /** The job id. */
  id: string;
  /** The job class name. */
  job: string;
  /** The queue the job runs on. */
  queue: string;
  /** Its priority (lower runs first). */
  priority: number;
  /** Where the job is; see {@link JobState}. */
  state: JobState;
  /** How many times the job has started. */
  executions: number;
  /** The last progress the job reported: `fraction` from 0 to 1 and an optional message. */
  progress: { fraction: number; message?: string } | null;
  /** What `perform` returned, in its JSON-safe form (superjson's `json` part), once succeeded. */
  result: unknown;
  /** superjson's `meta` part, present when the result holds a Date, Map, Set, BigInt and the like. */
  resultMeta?: unknown;
  /** The last error, once the job has failed at least once. */
  error: { name: string; message: string; code?: string } | null;
  /** ISO-8601 time the job was enqueued. */
  enqueuedAt: string;
  /** ISO-8601 time the job is (or was) due to run. */
  scheduledAt: string;
  /** ISO-8601 time the job last started, or null. */
  startedAt: string | null;
  /** ISO-8601 time the job reached a final state, or null. */
  finishedAt: string | null;
  /** ISO-8601 time of the last change. */
  updatedAt: string;
  /** Identifies this status; equals the event-stream `id:` that carried it. */
  version: string;
}

/** Options of `watchJob`. Any other key is an error. */
export interface WatchOptions {
  /** Called once per distinct status `version`, in the order received, the final one included. An exception thrown here ends the watch with that exception. */
  onUpdate?: (status: JobStatusJSON) => void;
  /** Aborting it ends the watch: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** `"auto"` (default): EventSource, falling back to polling. `"sse"`: EventSource only (rejects without it). `"poll"`: polling only. */
  transport?: "auto" | "sse" | "poll";
  /** First delay between polls, in ms. Default 1000. */
  pollInterval?: number;
  /** Longest delay between polls, in ms: the delay grows ×1.5 up to it while nothing changes or requests fail. Default 10000. */
  maxPollInterval?: number;
  /** With `"auto"`: ms to wait for the first event before deciding a proxy buffers the stream and polling instead. Default 5000. */
  firstEventTimeout?: number;
  /** EventSource constructor to use instead of the global one. */
  EventSource?: typeof EventSource;
  /** fetch function to use instead of the global one. */
  fetch?: typeof fetch;
}

/**
 * Why a watch was refused: the server's answer (`status` 403 for a missing, forged or
 * expired token, 404 for an unknown job, another 4xx) or an answer that is not a job status
 * (`code` `"invalid_response"`). `code` is the server's `error` field when it sent one.
 */
export class WatchError extends Error {
  override name = "WatchError";
  /** @param message What went wrong. */
  constructor(
    message: string,
    /** The HTTP status answered (0 when no response was involved). */
    readonly status: number,
    /** A short machine-readable reason: the server's `error` field (`"forbidden"`, `"not_found"`), else `"http_<status>"`, `"invalid_response"` or `"no_eventsource"`. */
    readonly code: string,
  ) {
    super(message);
  }
}

/** True for a status (or state) a job never leaves: `succeeded`, `failed` or `dead`. */
export function isFinished(status: JobStatusJSON | JobState): boolean {
  return /^(succeeded|failed|dead)$/.test(typeof status == "string" ? status : status.state);
}
