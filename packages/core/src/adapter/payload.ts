/**
 * The payload: a job as it travels through a backend (wire format version 1), with its
 * flow-control settings. Plain JSON; `wire-format.ts` validates it on read. Part of the
 * adapter contract (`contract.ts` re-exports it).
 *
 * @module
 */

/** A job as it travels through a backend: the wire format, version 1. Plain JSON. */
export interface JobPayload {
  /** Wire-format version. Always `1` for this layout. */
  v: 1;
  /** Registered name of the job class. */
  job: string;
  /** Errand job id: a UUIDv7 (time-ordered, 62 random bits), unguessable, safe to hand to a browser. */
  id: string;
  /** Queue name, prefix already applied. */
  queue: string;
  /** Lower runs first. Integer; default 0. */
  priority: number;
  /** Arguments as superjson output (`{ json, meta? }`). */
  args: SerializedValue;
  /** How many times the job has been started before this delivery. */
  executions: number;
  /**
   * How many times each `retryOn` rule's errors have failed the job, keyed by the rule's
   * error class names joined with commas (`{ "ApiError": 2, "LimitError,GoneError": 1 }`).
   * Absent before the first retry; core writes it into every retried payload (empty when no
   * rule has retried yet) and drops it when a dead job is retried. Integers >= 0.
   */
  exceptionExecutions?: Record<string, number>;
  /**
   * Earlier runs that ended in a retry, oldest first, at most the last
   * {@link MAX_ATTEMPTS_KEPT}: core appends one to each retried payload and drops them when a
   * dead job is retried. The job's timeline in dashboards; absent before the first retry.
   */
  attempts?: AttemptRecord[];
  /** ISO-8601 time of the first enqueue. */
  enqueuedAt: string;
  /** ISO-8601 time from which the job may run. */
  runAt: string;
  /** Per-job timeout in ms, if the job class sets one. */
  timeoutMs?: number;
  /** Ordering group (`set({ group })`); only handed to adapters with `capabilities.groups`. */
  group?: string;
  /**
   * Flow control, decided by the backend (see DESIGN "Flow control"). Absent today
   * unless the job class declares it; an adapter without the matching capability is
   * never handed a payload carrying it (core refuses at enqueue).
   */
  flow?: FlowControl;
  /**
   * A carrier for context that travels with the job, such as OpenTelemetry's trace context
   * (`traceparent`, `tracestate`), written by an instrumentation's enqueue hook. Strings
   * only, at most 16 entries and 4,096 characters (`wire-format.ts`). Every backend stores
   * it and hands it back unchanged, through retries, the dead set and a dead-job retry.
   * Absent when no instrumentation wrote any.
   */
  headers?: Record<string, string>;
  /**
   * A resumable job's progress (`this.step`, docs/long-jobs.md), written by core when the
   * job is interrupted at a checkpoint and re-enqueued: the steps it completed and where the
   * interrupted step stood. Every backend stores it and hands it back unchanged. Absent
   * until the job is first interrupted.
   */
  continuation?: ContinuationProgress;
  /**
   * The batch the job belongs to (`batch(...)`, `this.batch.add`), or for a batch's callback
   * job, the batch and which callback it is (`adapter/batch.ts`). Only handed to adapters
   * with `capabilities.batches`. Absent for a job outside any batch.
   */
  batch?: BatchMembership;
}

/** A payload's link to its batch. */
export interface BatchMembership {
  /** The batch id. */
  id: string;
  /** Set on a callback job: which one. A callback is not counted in its batch. */
  callback?: "success" | "complete" | "failure";
}

/** Where a resumable job stands, as its payload carries it (`wire-format.ts` checks it). */
export interface ContinuationProgress {
  /** Names of the steps that completed, in the order they ran (unique). */
  completed: string[];
  /**
   * The step that was running when the job was interrupted, and its cursor as superjson
   * output (`{ json, meta? }`); no `cursor` when the step had none yet.
   */
  current?: { step: string; cursor?: SerializedValue };
  /** How many runs ended in a resumption (an interruption, or an error after progress). */
  resumptions: number;
}

/** Most earlier runs a payload's `attempts` keeps (the oldest are dropped first). */
export const MAX_ATTEMPTS_KEPT = 25;

/** One earlier run of a job, as its payload's `attempts` keeps it. */
export interface AttemptRecord {
  /** ISO-8601 time the run started. */
  startedAt: string;
  /** ISO-8601 time it ended. */
  finishedAt: string;
  /** Why it failed (no stack: the status keeps the latest error's). */
  error: { name: string; message: string; code?: string };
}

/** superjson's output: JSON plus type annotations. */
export interface SerializedValue {
  json: unknown;
  meta?: unknown;
}

/**
 * Flow-control settings carried by a payload, for backends that enforce them. Keys are
 * final as given here (core has scoped the unique key by job class); backends compare
 * them as opaque strings. Semantics: docs/flow-control.md and docs/recurring-tasks.md.
 */
export interface FlowControl {
  /**
   * Uniqueness, decided atomically at enqueue. The key remembers its holder (the job that
   * stored it) with the holder's `while` and expiry (`enqueuedAt + forMs`, none without
   * `forMs`). A new job with the key is a duplicate — nothing is stored and the holder's
   * ids come back with `duplicate: true` — while the expiry is ahead and the holder's
   * state is one its `while` blocks:
   *
   * | while | blocking states of the holder |
   * | --- | --- |
   * | `queued` | scheduled, queued |
   * | `active` | scheduled, queued, running, retrying |
   * | `done` | scheduled, queued, running, retrying, succeeded (core requires `forMs`) |
   *
   * Failed (discarded) and dead holders never block, nor does a holder the backend no
   * longer knows (retention removed it). Otherwise the new job stores and becomes the
   * holder. Within one `enqueue` call jobs are decided in order.
   */
  unique?: { key: string; while: UniqueWhile; forMs?: number };
  /**
   * At most `limit` jobs with this key hold a lease at once, across every worker: reserve
   * hands out no job whose key is full. A job that cannot start stays `queued`, parked out
   * of the ready set (no busy loop) until a holder's settle or lease expiry frees a slot.
   * A slot lives as long as its holder's lease (extended with it).
   */
  concurrency?: { key: string; limit: number };
  /**
   * At most `limit` reservations of jobs with this key in any `perMs` window (a sliding
   * window over start times), across every worker. A job over the limit stays `queued`,
   * not counted as an execution, and is not handed out before a start is allowed again.
   */
  rateLimit?: { key: string; limit: number; perMs: number };
  /**
   * One tick of a recurring task (backends with `capabilities.recurring`). Stored only if
   * the task's last stored tick is earlier (or there is none), in the same atomic step
   * that records this tick as the task's last: otherwise nothing is stored and the result
   * is `duplicate: true` with the id of the job of the task's last tick.
   */
  recurring?: { task: string; tick: string };
}

/** Which states of a unique job's holder block a duplicate (see {@link FlowControl.unique}). */
export type UniqueWhile = "queued" | "active" | "done";
