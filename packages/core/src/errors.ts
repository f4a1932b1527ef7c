/**
 * Errand's errors. Every error Errand raises is an {@link ErrandError} with a stable
 * `code`, so handlers and logs can match on it whatever the backend.
 *
 * @module
 */

/** Base class of every error Errand raises. `code` is stable across versions. */
export class ErrandError extends Error {
  /** Stable machine-readable code, e.g. `ERR_SERIALIZATION`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A job was cancelled by an operator (`changeJobs({ action: "cancel" })`, the dashboard,
 * `errand jobs cancel`) before it started: its status reads `failed` with this error.
 */
export class JobCancelledError extends ErrandError {
  constructor(message = "cancelled before it started") {
    super("ERR_JOB_CANCELLED", message);
  }
}

/**
 * A running job was aborted by an operator (`changeJobs({ action: "abort" })`): its
 * `this.signal` aborts with this reason, and a job that then ends in an error is not
 * retried: its status reads `failed` with this error.
 */
export class JobAbortedError extends ErrandError {
  constructor(message = "aborted by an operator") {
    super("ERR_JOB_ABORTED", message);
  }
}

/**
 * A running job was interrupted by an operator (`changeJobs({ action: "interrupt" })`): the
 * reason its `this.signal` aborts with when it is no resumable job. Whatever the job then
 * throws, it is handed back (`released`) and runs again from the start; a resumable job
 * stops at its next checkpoint instead and resumes from its progress (docs/long-jobs.md).
 */
export class JobInterruptRequestedError extends ErrandError {
  constructor(message = "interrupted by an operator: handed back to run again") {
    super("ERR_JOB_INTERRUPT_REQUESTED", message);
  }
}

/** An argument cannot be stored (a function, an unregistered class instance, a cycle, a symbol). Nothing was enqueued. */
export class SerializationError extends ErrandError {
  /** Where in the arguments the bad value sits, e.g. `args[1].owner.avatar`. */
  readonly path: string;
  constructor(path: string, message: string) {
    super("ERR_SERIALIZATION", `${path}: ${message}`);
    this.path = path;
  }
}

/** Stored arguments cannot be turned back into values: a model record is gone, a serializer is missing. */
export class DeserializationError extends ErrandError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_DESERIALIZATION", message, options);
  }
}

/** A configuration value is wrong or missing; the message names it. */
export class ConfigError extends ErrandError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_CONFIG", message, options);
  }
}

/** A configured adapter's package is not installed. */
export class AdapterNotInstalledError extends ErrandError {
  /** The npm package to install. */
  readonly packageName: string;
  constructor(packageName: string, setting: string) {
    super(
      "ERR_ADAPTER_NOT_INSTALLED",
      `the ${setting} adapter is configured but ${packageName} is not installed: run \`npm install ${packageName}\``,
    );
    this.packageName = packageName;
  }
}

/** A payload names a job class that is not registered. The job goes to the dead set. */
export class UnknownJobError extends ErrandError {
  readonly jobName: string;
  constructor(jobName: string, known: readonly string[]) {
    const list = known.length ? known.join(", ") : "none";
    super("ERR_UNKNOWN_JOB", `unknown job class "${jobName}" (registered: ${list})`);
    this.jobName = jobName;
  }
}

/** There is no status for a job: an unknown id, or a job whose status expired. */
export class JobNotFoundError extends ErrandError {
  /** The job id asked for. */
  readonly jobId: string;
  constructor(jobId: string, adapter: string) {
    super("ERR_JOB_NOT_FOUND", `no status for job ${jobId} on the ${adapter} adapter (unknown id, or its status expired)`);
    this.jobId = jobId;
  }
}

/** A stored payload does not match the wire format. The job goes to the dead set. */
export class MalformedPayloadError extends ErrandError {
  constructor(message: string) {
    super("ERR_MALFORMED_PAYLOAD", `malformed payload: ${message}`);
  }
}

/** An option the backend cannot honour (see its `capabilities`). Nothing was enqueued. */
export class UnsupportedError extends ErrandError {
  constructor(message: string) {
    super("ERR_UNSUPPORTED", message);
  }
}

/** A duration value (`wait`, `timeout`, backoff) is not understood; the message names it. */
export class InvalidDurationError extends ErrandError {
  constructor(value: unknown, where: string) {
    super(
      "ERR_INVALID_DURATION",
      `${where}: ${describeValue(value)} is not a duration; use milliseconds (number), "90s", "10m", "2h", "1d", "1w" or { minutes: 10 }`,
    );
  }
}

/** A job ran longer than its `timeout`; its `signal` was aborted. */
export class JobTimeoutError extends ErrandError {
  constructor(jobName: string, timeoutMs: number) {
    super("ERR_JOB_TIMEOUT", `${jobName} timed out after ${timeoutMs} ms`);
  }
}

/**
 * Thrown by a step's checkpoint (`advance`, `set`, `checkpoint`) when the job must stop:
 * its worker is shutting down, its signal was aborted, or a test interrupts it. Core saves
 * the progress and re-enqueues the job; code that catches errors around a checkpoint must
 * rethrow this one (core treats the run as interrupted even if it is swallowed).
 */
export class JobInterruptedError extends ErrandError {
  constructor(jobName: string, where: string) {
    super("ERR_JOB_INTERRUPTED", `${jobName} was interrupted ${where}`);
  }
}

/** A resumable job's steps do not match its saved progress, or a step was used wrongly (nested, named twice). */
export class StepError extends ErrandError {
  constructor(message: string) {
    super("ERR_STEP", message);
  }
}

/** A resumable job reached its `maxResumptions`: it ends dead with this reason. */
export class ResumptionLimitError extends ErrandError {
  constructor(jobName: string, maxResumptions: number) {
    super("ERR_MAX_RESUMPTIONS", `${jobName} stopped again after ${maxResumptions} resumptions, its maxResumptions`);
  }
}

/** Aborts a running job's signal when the worker shuts down. */
export class ShutdownError extends ErrandError {
  constructor() {
    super("ERR_SHUTDOWN", "the worker is shutting down");
  }
}

/** A backend call failed; `operation` names the adapter call, `cause` holds the backend's error. */
export class AdapterError extends ErrandError {
  readonly adapter: string;
  readonly operation: string;
  constructor(adapter: string, operation: string, cause: unknown, code = "ERR_ADAPTER") {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(code, `${adapter} adapter: ${operation} failed: ${reason}`, { cause });
    this.adapter = adapter;
    this.operation = operation;
  }
}

/**
 * A backend could not be reached. Core's adapter client raises it for Node's socket
 * errors (`ECONNREFUSED`, `ECONNRESET`, …); adapters add their backend's own through
 * `mapError` (PostgreSQL's admin shutdown codes, ioredis' lost-connection messages).
 */
export class ConnectionError extends AdapterError {
  constructor(adapter: string, operation: string, cause: unknown) {
    super(adapter, operation, cause, "ERR_CONNECTION");
  }
}

/** A call reached an adapter after `close()`: the runtime was closed or reconfigured. */
export class AdapterClosedError extends AdapterError {
  constructor(adapter: string, operation: string) {
    super(adapter, operation, new Error("the adapter is closed"), "ERR_ADAPTER_CLOSED");
  }
}

/** Formats a value for an error message without dumping large objects. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (typeof value === "symbol" || typeof value === "bigint") return String(value);
  if (value === null || typeof value !== "object") return String(value);
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Turns anything thrown into the stored form. */
export function toStoredError(error: unknown): { name: string; message: string; code?: string; stack?: string } {
  if (error instanceof Error) {
    // `class GoneError extends Error {}` keeps the name "Error"; the class name says more.
    const ctorName = (error.constructor as { name?: string } | undefined)?.name;
    const stored: { name: string; message: string; code?: string; stack?: string } = {
      name: error.name === "Error" && ctorName ? ctorName : error.name,
      message: error.message,
    };
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string") stored.code = code;
    if (error.stack) stored.stack = error.stack;
    return stored;
  }
  return { name: "Error", message: describeValue(error) };
}

/**
 * The app's transaction committed, but jobs it deferred (made inside `withTransaction` on an
 * adapter that cannot join it) could not be enqueued after: the data is committed, these
 * jobs are not. `jobs` names each, with the error its store met; the others were enqueued.
 */
export class TransactionFlushError extends ErrandError {
  /** The jobs not enqueued, in the order they were made. */
  readonly jobs: readonly { job: string; jobId: string; error: unknown }[];
  constructor(jobs: readonly { job: string; jobId: string; error: unknown }[]) {
    const first = jobs[0]?.error;
    const reason = first instanceof Error ? first.message : String(first);
    const listed = jobs.slice(0, 10).map((job) => `${job.job} ${job.jobId}`).join(", ");
    super(
      "ERR_TRANSACTION_FLUSH",
      `the transaction committed, but ${jobs.length} job(s) made inside it were not enqueued: ${listed}${jobs.length > 10 ? `, and ${jobs.length - 10} more` : ""} (${reason}); enqueue them again or run their work another way`,
      { cause: first },
    );
    this.jobs = jobs;
  }
}
