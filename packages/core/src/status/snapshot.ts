/**
 * One read of a job's status, shared by everyone watching that job: the public
 * `JobStatus`, the JSON sent to browsers and its version are each computed once per
 * change, however many streams carry it (1,000 streams on one job cost one
 * `JSON.stringify`, not 1,000).
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { JobState, StatusRecord, StoredError } from "../adapter/contract.js";
import { isFinished, toJobStatus, type JobStatus } from "../status.js";

/**
 * A job's status as browsers receive it, from `GET …/jobs/:id` and in each Server-Sent
 * Event. Dates are ISO-8601 strings. `@errand/client` declares the same shape.
 */
export interface JobStatusJSON {
  id: string;
  job: string;
  queue: string;
  priority: number;
  state: JobState;
  executions: number;
  progress: { fraction: number; message?: string } | null;
  /**
   * What `perform` returned, in its JSON-safe stored form: plain JSON values as they were;
   * Dates as ISO strings, Maps and Sets as arrays, BigInts as strings (see `resultMeta`).
   */
  result: unknown;
  /** Errand's type annotations for `result`, present when it holds non-JSON types. */
  resultMeta?: unknown;
  /** The last error's class, message and code; stacks stay on the server. */
  error: { name: string; message: string; code?: string } | null;
  enqueuedAt: string;
  scheduledAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  /** Identifies this exact status; the SSE event id. Equal versions mean equal statuses. */
  version: string;
}

/** A status as read once from the backend, with what is derived from it computed on demand. */
export class StatusSnapshot {
  /** Identifies this exact status (a digest of the stored record). */
  readonly version: string;
  private cachedStatus: JobStatus | undefined;
  private cachedText: string | undefined;

  constructor(readonly record: StatusRecord) {
    this.version = versionOf(record);
  }

  /** The job's state. */
  get state(): JobState {
    return this.record.state;
  }

  /** True once the job is succeeded, failed or dead. */
  get finished(): boolean {
    return isFinished(this.record.state);
  }

  /** The public status (result deserialized), computed once. */
  get status(): JobStatus {
    return (this.cachedStatus ??= toJobStatus(this.record));
  }

  /** The browser's JSON text of this status, computed once. */
  get text(): string {
    return (this.cachedText ??= JSON.stringify(this.toJSON()));
  }

  /** The browser's view of this status. */
  toJSON(): JobStatusJSON {
    const { record } = this;
    const json: JobStatusJSON = {
      id: record.id,
      job: record.job,
      queue: record.queue,
      priority: record.priority,
      state: record.state,
      executions: record.executions,
      progress: record.progress ?? null,
      result: null,
      error: record.error ? publicError(record.error) : null,
      enqueuedAt: record.enqueuedAt.toISOString(),
      scheduledAt: record.runAt.toISOString(),
      startedAt: record.startedAt?.toISOString() ?? null,
      finishedAt: record.finishedAt?.toISOString() ?? null,
      updatedAt: record.updatedAt.toISOString(),
      version: this.version,
    };
    if (record.result !== undefined) {
      const stored = JSON.parse(record.result) as { json: unknown; meta?: unknown };
      json.result = stored.json;
      if (stored.meta !== undefined) json.resultMeta = stored.meta;
    }
    return json;
  }
}

function publicError(error: StoredError): JobStatusJSON["error"] {
  return error.code === undefined ? { name: error.name, message: error.message } : { name: error.name, message: error.message, code: error.code };
}

/**
 * 16 base64url characters (96 bits) of a SHA-1 over every field of the record: two
 * different statuses of one job never share a version in practice, and it costs ~2 µs.
 */
function versionOf(record: StatusRecord): string {
  const hash = createHash("sha1");
  hash.update(record.state).update("\0").update(String(record.executions)).update("\0");
  hash.update(String(record.updatedAt.getTime())).update("\0").update(String(record.startedAt?.getTime() ?? "")).update("\0");
  hash.update(String(record.finishedAt?.getTime() ?? "")).update("\0").update(String(record.runAt.getTime())).update("\0");
  if (record.progress) hash.update(String(record.progress.fraction)).update("\0").update(record.progress.message ?? "\u0001");
  hash.update("\0").update(record.result ?? "\u0001").update("\0").update(record.error ? JSON.stringify(record.error) : "");
  hash.update("\0").update(record.queue).update("\0").update(String(record.priority));
  return hash.digest("base64url").slice(0, 16);
}
