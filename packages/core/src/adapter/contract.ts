/**
 * The adapter contract: the storage primitives every Errand backend provides.
 *
 * Core decides, adapters store. Retry rules, backoff, queue weights, callbacks,
 * serialization, leases' renewal schedule and shutdown all live in core; an adapter
 * persists the state core chose and hands jobs back when asked. Every operation is
 * bulk-first (a single job is an array of one) and takes one options object, so a
 * backend can turn a batch into one round trip.
 *
 * Semantics are at-least-once: a reserved job whose lease runs out without being
 * settled becomes available again.
 *
 * This file holds the `Adapter` interface and its operations' options; the rest of the
 * contract is in its neighbours, re-exported here: what a backend can do
 * (`capabilities.ts`), job statuses and the status feed (`status.ts`), payloads
 * (`payload.ts`), the dead set (`dead.ts`), the operator's part (`control.ts`) and batches
 * (`batch.ts`).
 *
 * @module
 */

import type { BatchRecord, GetBatchesOptions, OpenBatchesOptions, SealBatchesOptions } from "./batch.js";
export type {
  BatchAdapter,
  BatchCallbackKind,
  BatchRecord,
  BatchState,
  GetBatchesOptions,
  NewBatch,
  OpenBatchesOptions,
  SealBatchesOptions,
} from "./batch.js";
export type { AttemptRecord, BatchMembership, ContinuationProgress, FlowControl, JobPayload, SerializedValue, UniqueWhile } from "./payload.js";
export { MAX_ATTEMPTS_KEPT } from "./payload.js";
export type { DeadJob, DeadSelection, ListDeadOptions, PurgeDeadOptions, RetryDeadOptions, RevivedJob } from "./dead.js";
import type { DeadJob, ListDeadOptions, PurgeDeadOptions, RetryDeadOptions } from "./dead.js";
import type { JobPayload } from "./payload.js";
import type {
  ChangeJobsOptions,
  HeartbeatOptions,
  HeartbeatResult,
  JobPage,
  ListJobsOptions,
  ListWorkersOptions,
  PauseQueuesOptions,
  QueueThroughput,
  WorkerRecord,
} from "./control.js";
export type {
  ChangeJobsOptions,
  FinishedCount,
  HeartbeatOptions,
  HeartbeatResult,
  JobAction,
  JobPage,
  ListedJob,
  ListJobsOptions,
  ListWorkersOptions,
  PauseQueuesOptions,
  QueueThroughput,
  RunningJobInfo,
  WorkerInfo,
  WorkerRecord,
} from "./control.js";
export { MAX_LIST_LIMIT } from "./control.js";
import type { AdapterCapabilities } from "./capabilities.js";
export type { AdapterCapabilities } from "./capabilities.js";
export { baseCapabilities } from "./capabilities.js";
import type { GetStatusOptions, StatusFeed, StatusFeedOptions, StatusRecord, StoredError } from "./status.js";
import type { DiagnoseOptions, Diagnosis } from "./diagnosis.js";
export type { DiagnoseOptions, DiagnoseStoreOptions, Diagnosis, QueueDiagnosis, SchemaDiagnosis, StatusStoreDiagnosis, StoreDiagnosis } from "./diagnosis.js";
export type { GetStatusOptions, JobState, StatusFeed, StatusFeedOptions, StatusRecord, StoredError } from "./status.js";

/** Options of {@link Adapter.enqueue}. */
export interface EnqueueOptions {
  /** Payloads to store, in order. */
  jobs: JobPayload[];
  /**
   * The caller's open transaction (for Postgres, a `pg` client inside `BEGIN`). Only
   * passed when `capabilities.transactionalEnqueue` is true.
   */
  transaction?: unknown;
}

/** One stored job, as {@link Adapter.enqueue} reports it, in the order of `jobs`. */
export interface EnqueueResult {
  /** Errand job id (the payload's `id`, or for a duplicate the existing job's id). */
  jobId: string;
  /** The backend's own id (row id, stream id, SQS message id). */
  providerJobId: string;
  /** True when uniqueness matched an existing job and nothing new was stored. */
  duplicate?: boolean;
}

/** Options of {@link Adapter.reserve}. */
export interface ReserveOptions {
  /**
   * Queues to take from, in the order to try them (core has already applied weights),
   * or `"*"` for every queue when `capabilities.wildcardQueues` is true.
   */
  queues: readonly string[] | "*";
  /**
   * With `queues: "*"`: queues to leave out (the paused ones). Only passed to backends with
   * `capabilities.control`; with a list of queues core leaves them out of the list itself.
   */
  except?: readonly string[];
  /** Most jobs to hand back. At least 1. */
  max: number;
  /** Lease length in ms: unsettled jobs become available again this long after reserve. */
  leaseMs: number;
  /** Longest time to wait for work when none is ready, in ms; 0 means return at once. */
  waitMs: number;
  /** Aborted when the worker stops; a waiting reserve returns `[]` promptly. */
  signal?: AbortSignal;
  /** Identifies the worker in status and diagnostics. */
  workerId: string;
}

/** A job handed to a worker, leased until settled or released. */
export interface Reservation {
  /** The backend's id for this job. */
  providerJobId: string;
  /** The stored payload text, unparsed: core validates it and buries it if malformed. */
  body: string;
  /** How many times the backend has delivered this job, when it counts (lease expiries included). */
  deliveries?: number;
  /** Adapter-private handle (lease token, receipt handle); core passes it back untouched. */
  handle?: unknown;
}


/** How one reserved job ends (or is handed back). */
export type Settlement =
  /** The job succeeded; `result` is the serialized return value, if any. */
  | { reservation: Reservation; outcome: "succeeded"; result?: string }
  /** The job failed and runs again at `runAt`; `payload` is the updated payload to store. */
  | { reservation: Reservation; outcome: "retry"; payload: JobPayload; runAt: Date; error: StoredError }
  /** The job failed for good and is dropped, not kept in the dead set (`discardOn`). */
  | { reservation: Reservation; outcome: "failed"; error: StoredError }
  /** The job goes to the dead set with the reason. `payload` is absent when the body was malformed. */
  | { reservation: Reservation; outcome: "dead"; error: StoredError; payload?: JobPayload }
  /** The job was not run (or was interrupted at shutdown): make it available again now, unchanged. */
  | { reservation: Reservation; outcome: "released" };

/** Options of {@link Adapter.settle}. */
export interface SettleOptions {
  settlements: Settlement[];
}

/** Options of {@link Adapter.extendLease}. */
export interface ExtendLeaseOptions {
  reservations: Reservation[];
  /** New lease length from now, in ms. */
  leaseMs: number;
}

/** Options of {@link Adapter.setProgress}. */
export interface SetProgressOptions {
  updates: { jobId: string; reservation?: Reservation; fraction: number; message?: string }[];
}


/** Options of {@link Adapter.listQueues}. */
export interface ListQueuesOptions {
  /**
   * With `capabilities.control`: fill each queue's `throughput` for this many minutes up to
   * the current one (1 to 1440). Absent: no throughput.
   */
  throughputMinutes?: number;
}

/** Counts for one queue. */
export interface QueueInfo {
  name: string;
  queued: number;
  scheduled: number;
  running: number;
  retrying: number;
  dead: number;
  /** With `capabilities.listJobs`: succeeded jobs whose status is still kept. */
  succeeded?: number;
  /** With `capabilities.listJobs`: failed (discarded or cancelled) jobs whose status is still kept. */
  failed?: number;
  /** With `capabilities.listJobs`: age in ms of the oldest queued job (since its `runAt`), 0 when none is queued. */
  latencyMs?: number;
  /** With `capabilities.control`: the queue is paused. A paused queue is listed even when empty. */
  paused?: boolean;
  /** With `capabilities.control` and `throughputMinutes`: runs finished per minute. */
  throughput?: QueueThroughput;
}

/** Options of {@link Adapter.recurringState}. */
export interface RecurringStateOptions {
  /** Recurring task names. */
  tasks: string[];
}

/** A recurring task's last stored tick. */
export interface RecurringRecord {
  task: string;
  /** The tick (its scheduled time) last stored for the task. */
  lastTick: Date;
  /** Errand id of that tick's job. */
  jobId: string;
}

/** Options of {@link Adapter.migrate}. */
export type MigrateOptions = Record<string, never>;

/** What {@link Adapter.migrate} did. */
export interface MigrateResult {
  /** Names of the migrations applied by this call, in order (empty when up to date). */
  applied: string[];
}

/**
 * A backend. Twenty-seven members (fourteen optional: the batches' three (`batch.ts`), `capabilityNotes`, `diagnose`, `mapError`, `migrate`,
 * `openStatusFeed`, `recurringState`, and the operator's five of `control.ts`); each operation takes one options object and is bulk-first.
 * Adapter authors: run `test/conformance` against your adapter; it is the contract's spec.
 */
export interface Adapter {
  /** Short name used in messages and events ("async", "postgres"). */
  readonly name: string;
  /** What this backend supports; read once by core. */
  readonly capabilities: AdapterCapabilities;
  /**
   * Optional: why a capability is off on this instance and what would turn it on, added to
   * core's refusal (`"… (capability unique): <note>"`). For capabilities that depend on the
   * adapter's options, such as SQS's flow control, which needs a shared status store.
   */
  readonly capabilityNotes?: Partial<Record<keyof AdapterCapabilities, string>>;
  /**
   * Store payloads; each becomes `queued`, or `scheduled` when its `runAt` is in the
   * future. A payload whose `flow.unique` or `flow.recurring` makes it a duplicate is not
   * stored: its result carries the existing job's ids and `duplicate: true`.
   */
  enqueue(options: EnqueueOptions): Promise<EnqueueResult[]>;
  /**
   * Lease up to `max` ready jobs (runAt ≤ now) from `queues`, lower priority first, then
   * oldest first; marks them `running`. May wait up to `waitMs` for work; returns `[]` when
   * none came or the signal aborted.
   */
  reserve(options: ReserveOptions): Promise<Reservation[]>;
  /**
   * Record how reserved jobs ended (succeeded, retry, failed, dead, released), in one
   * batch. A settlement whose lease was lost (it expired and the job was reserved again)
   * is ignored: only the current holder's outcome counts.
   */
  settle(options: SettleOptions): Promise<void>;
  /**
   * Push out the lease of reserved jobs. Returns the `providerJobId`s whose lease was
   * already lost (expired and taken again — a reservation from before that is stale — or
   * settled), so core can abort them. A job with `flow.concurrency` whose lease deadline has
   * passed is lost too, even if nothing took it back yet: it no longer held its slot, and a
   * renewal must not bring its key above the limit.
   */
  extendLease(options: ExtendLeaseOptions): Promise<string[]>;
  /** Store the latest progress of running jobs. */
  setProgress(options: SetProgressOptions): Promise<void>;
  /** Status records by Errand job id, `null` for unknown or expired ids, in order. */
  getStatus(options: GetStatusOptions): Promise<(StatusRecord | null)[]>;
  /**
   * Optional (`capabilities.statusFeed`): starts reporting status changes of this
   * backend's jobs, from any process. Resolves once subscribed, so every change made after
   * it resolves is reported. After a dropped connection the feed reconnects by itself and
   * calls `onReconnect`. Core opens at most one at a time per adapter.
   */
  openStatusFeed?(options: StatusFeedOptions): Promise<StatusFeed>;
  /**
   * Optional (`capabilities.recurring`): each task's last stored tick, `null` for a task
   * with none, in order.
   */
  recurringState?(options: RecurringStateOptions): Promise<(RecurringRecord | null)[]>;
  /** Counts per queue for every queue the backend knows. */
  listQueues(options: ListQueuesOptions): Promise<QueueInfo[]>;
  /**
   * Optional (`capabilities.listJobs`): a page of one state's jobs (or jobs by id), with
   * their statuses and payloads. See {@link ListJobsOptions} for the order.
   */
  listJobs?(options: ListJobsOptions): Promise<JobPage>;
  /**
   * Optional (`capabilities.control`): cancel, run now or abort jobs by id (see
   * {@link JobAction}). Returns the ids the action applied to, in the order given.
   */
  changeJobs?(options: ChangeJobsOptions): Promise<string[]>;
  /** Optional (`capabilities.control`): pause or resume queues, for every worker of the backend. */
  pauseQueues?(options: PauseQueuesOptions): Promise<void>;
  /**
   * Optional (`capabilities.control`): store a worker's beat (its record, its finished
   * counts), and read back the paused queues and the aborts of the jobs it runs.
   */
  heartbeat?(options: HeartbeatOptions): Promise<HeartbeatResult>;
  /** Optional (`capabilities.control`): workers whose records are kept, live or gone, by id. */
  listWorkers?(options: ListWorkersOptions): Promise<WorkerRecord[]>;
  /** Optional (`capabilities.batches`): store new batches, open (`batch.ts`). */
  openBatches?(options: OpenBatchesOptions): Promise<void>;
  /** Optional (`capabilities.batches`): mark batches fully enqueued; finish those already done. */
  sealBatches?(options: SealBatchesOptions): Promise<void>;
  /** Optional (`capabilities.batches`): batch records by id, `null` when unknown, in order. */
  getBatches?(options: GetBatchesOptions): Promise<(BatchRecord | null)[]>;
  /** Dead jobs, newest first. */
  listDead(options: ListDeadOptions): Promise<DeadJob[]>;
  /** Move dead jobs back to their queue, to run now. Returns how many moved. */
  retryDead(options: RetryDeadOptions): Promise<number>;
  /** Delete dead jobs for good. Returns how many were deleted. */
  purgeDead(options: PurgeDeadOptions): Promise<number>;
  /** Release connections and timers. Further calls fail. */
  close(): Promise<void>;
  /**
   * Optional: create or upgrade the backend's schema (`errand migrate`). Safe when several
   * processes run it at once. Backends without a schema leave it out.
   */
  migrate?(options: MigrateOptions): Promise<MigrateResult>;
  /**
   * Optional: reads the backend's health for `errand doctor` (`diagnosis.ts`): one round
   * trip's latency, the schema's pending migrations, which queues exist. Changes nothing:
   * never through the `MigrationGate`, never creating a queue. Bounded by `timeoutMs`;
   * rejects when the server cannot be reached.
   */
  diagnose?(options: DiagnoseOptions): Promise<Diagnosis>;
  /**
   * Optional: turn a backend error into an `ErrandError` (for example a refused
   * connection into `ConnectionError`). Errors it leaves alone become `AdapterError`.
   */
  mapError?(error: unknown, operation: string): Error | undefined;
}

/** What a backend package's `createAdapter` receives besides its own options. */
export interface AdapterContext {
  /** The app name from config (used in keys, schema comments, diagnostics). */
  app: string;
  /** The current environment name. */
  environment: string;
}

/**
 * The shape a backend package exports: `export const createAdapter: AdapterFactory`.
 * `options` is the adapter setting from config minus `use`, with `url` when given.
 */
export type AdapterFactory = (
  options: Record<string, unknown>,
  context: AdapterContext,
) => Adapter | Promise<Adapter>;
