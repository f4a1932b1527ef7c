/**
 * A job's status as apps and browsers read it. Job ids are random UUIDs, so a status
 * URL can be handed to the browser that asked for the work.
 *
 * @module
 */
import type { JobState, StatusRecord, StoredError } from "./adapter/contract.js";
import { deserializeResult } from "./serializers/arguments.js";

export type { JobState } from "./adapter/contract.js";

/** A job's state, progress, result and timestamps. */
export interface JobStatus {
  /** Errand job id. */
  id: string;
  /** Job class name. */
  job: string;
  queue: string;
  priority: number;
  /** `scheduled`, `queued`, `running`, `succeeded`, `retrying` (failed, will run again), `failed` (discarded) or `dead`. */
  state: JobState;
  /** How many times the job has started. */
  executions: number;
  /** Last reported progress: fraction 0..1 and an optional message. */
  progress: { fraction: number; message?: string } | null;
  /** What `perform` returned (superjson types restored), once succeeded. */
  result: unknown;
  /** The last error, when the job failed at least once. */
  error: StoredError | null;
  enqueuedAt: Date;
  /** When the job is (or was) due to run. */
  scheduledAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

/** True for states a job never leaves. */
export function isFinished(state: JobState): boolean {
  return state === "succeeded" || state === "failed" || state === "dead";
}

/** Turns a stored record into the public status. */
export function toJobStatus(record: StatusRecord): JobStatus {
  return {
    id: record.id,
    job: record.job,
    queue: record.queue,
    priority: record.priority,
    state: record.state,
    executions: record.executions,
    progress: record.progress ?? null,
    result: deserializeResult(record.result),
    error: record.error ?? null,
    enqueuedAt: record.enqueuedAt,
    scheduledAt: record.runAt,
    startedAt: record.startedAt ?? null,
    finishedAt: record.finishedAt ?? null,
    updatedAt: record.updatedAt,
  };
}

/** A status as JSON for HTTP responses (dates as ISO strings). */
export function statusToJSON(status: JobStatus): Record<string, unknown> {
  const iso = (date: Date | null) => (date ? date.toISOString() : null);
  return {
    ...status,
    enqueuedAt: iso(status.enqueuedAt),
    scheduledAt: iso(status.scheduledAt),
    startedAt: iso(status.startedAt),
    finishedAt: iso(status.finishedAt),
    updatedAt: iso(status.updatedAt),
  };
}
