/**
 * Status stores: where a backend that keeps no job state (SQS) keeps it, so `Job.status(id)`
 * works as on the others. The adapter calls the store at each state change, in batches.
 *
 * Each delivery of a job carries a lease token (for SQS, the receipt handle). The store
 * remembers the current one per job, which answers what the backend itself cannot: whether
 * a settlement or renewal comes from the worker that holds the job now, or from one whose
 * lease expired and whose job was delivered again since (`current`). A stale holder's
 * outcome is then ignored, as on every other backend.
 *
 * Writes of one job are issued from several places (a reserve, a worker's batched
 * settlements, a reserve in another process) and may land in another order than SQS saw
 * them. So a settlement does not forget the lease it ends: it leaves an ended lease (the
 * empty token, which matches no delivery) until the job is enqueued again or delivered
 * again. A delivery's settlement that lands after the next delivery has settled is then
 * stale, like one landing while the next delivery runs; were the lease simply dropped, it
 * would find a live job with no lease and apply, turning a handed-back job into a finished
 * one, or counting a release twice.
 *
 * `LocalStatusStore` (`memory/local-status.ts`) keeps statuses in this process (one process
 * only: another process's jobs are unknown to it). Stores shared by every process live in
 * the Redis and PostgreSQL adapter packages.
 *
 * @module
 */
import type { BatchRecord, NewBatch } from "./batch.js";
import type { JobPayload, RecurringRecord, Settlement, StatusFeed, StatusFeedOptions, StatusRecord } from "./contract.js";
import type { DiagnoseStoreOptions, StoreDiagnosis } from "./diagnosis.js";
import type { StatusStoreControl } from "./status-store-control.js";

/** One delivery of a job: its id and the lease token of the delivery. */
export interface StatusLease {
  id: string;
  lease: string;
}

/** Where job statuses live for a backend that keeps none. Every method is bulk. */
export interface StatusStore {
  /**
   * True when every process using the store sees the same statuses (the Redis and
   * PostgreSQL stores); false or absent when they live in one process (`LocalStatusStore`).
   * An adapter on a store that is not shared says `capabilities.localStatus`, and its
   * workers warn at start.
   */
  readonly shared?: boolean;
  /**
   * Records stored jobs (queued or scheduled by their `runAt`). With {@link batches}: a job
   * with `batch: { id }` (no `callback`) is counted into its batch in the same atomic step
   * (see {@link StatusStoreBatches}); a batch the store does not hold fails the whole call,
   * recording nothing, with an error naming it.
   */
  enqueued(payloads: readonly JobPayload[]): Promise<void>;
  /** Records deliveries to a worker: running, one more execution, the new lease. */
  started(leases: readonly StatusLease[]): Promise<void>;
  /**
   * Of these deliveries, the ones whose lease is no longer the job's current one (the job was
   * delivered again since, or finished). A job the store does not know counts as current.
   */
  stale(leases: readonly StatusLease[]): Promise<Set<string>>;
  /**
   * Records how deliveries ended; stale ones are left alone. With {@link batches}: each
   * current settlement of a batch's job is counted in the same atomic step, and the
   * callbacks of the batches this call finished come back as pending sends (recorded in the
   * same step: send them, then `flow.confirm`; the flow's sweep resends them otherwise).
   * A store without batches returns nothing.
   */
  settled(items: readonly (StatusLease & { settlement: Settlement })[]): Promise<FlowPending[] | void>;
  /** Records the latest progress of running jobs. */
  progress(updates: readonly { id: string; fraction: number; message?: string }[]): Promise<void>;
  /** Statuses by id, `null` for unknown or expired ones, in order. */
  get(ids: readonly string[]): Promise<(StatusRecord | null)[]>;
  /**
   * Optional: reports status changes written by any process using the store (the Redis
   * store: pub/sub; the PostgreSQL store: LISTEN/NOTIFY; the local store: in process). An
   * adapter on a store with a feed offers `openStatusFeed` through it. Same rules as
   * {@link Adapter.openStatusFeed}.
   */
  openFeed?(options: StatusFeedOptions): Promise<StatusFeed>;
  /**
   * Optional: flow control (`FlowControl`) decided by the store for a backend that holds
   * only messages (SQS). Only shared stores offer it: a limit kept in one process's memory
   * would not limit the others. See {@link StatusStoreFlow}.
   */
  readonly flow?: StatusStoreFlow;
  /**
   * Optional: the operator's side (listing, cancel / run-now / abort marks, pauses, worker
   * beats, throughput) for a backend that holds only messages (SQS). Only shared stores offer
   * it: an operator's action kept in one process would not reach the others. See
   * {@link StatusStoreControl}.
   */
  readonly control?: StatusStoreControl;
  /**
   * Optional: batches (`adapter/batch.ts`) counted by the store for a backend that holds only
   * messages (SQS). Only shared stores offer it, and only with {@link flow}, whose pending
   * sends carry the callbacks to the backend. See {@link StatusStoreBatches}.
   */
  readonly batches?: StatusStoreBatches;
  /**
   * Forgets jobs (purged from the backend). A job of a batch that was counted pending (an
   * enqueue the backend refused) is taken out of its batch's `total` and `pending`.
   */
  delete(ids: readonly string[]): Promise<void>;
  /**
   * Optional: one round trip and, for a store with a schema, its pending migrations, for
   * `errand doctor` (`diagnosis.ts`). Changes nothing (never through the store's migration
   * gate); bounded by `timeoutMs`; rejects when the server cannot be reached.
   */
  diagnose?(options: DiagnoseStoreOptions): Promise<StoreDiagnosis>;
  /**
   * Optional: applies the store's pending migrations now and answers their names (the
   * adapter's `migrate`, so `errand migrate` covers the store). For a store with a schema.
   */
  migrate?(): Promise<string[]>;
  /** Releases connections. */
  close(): Promise<void>;
}

/**
 * A job whose enqueue needs the store's decision first (`flow.unique` or `flow.recurring`),
 * with the body to keep until the backend confirms it holds the message.
 */
export interface FlowClaim {
  payload: JobPayload;
  body: string;
}

/** The store's answer to one {@link FlowClaim}, in order. */
export type FlowClaimResult =
  /** Stored: the status is recorded, the body kept as a pending send under `token`. */
  | { claimed: true; pending: FlowPending }
  /** A duplicate: nothing stored; `jobId` is the unique key's holder, or the task's last tick's job. */
  | { claimed: false; jobId: string };

/**
 * A body the store keeps until the backend holds its message (a claimed job, or a parked
 * job let go): the adapter sends it, then `confirm`s. `token` stays the same for the life of
 * the entry (SQS FIFO queues use `<id>-<token>` as deduplication id, so a second send of the
 * entry collapses); `taken` is when its current sender took it (ms), renewed when the
 * sweep hands it to another process.
 */
export interface FlowPending {
  id: string;
  token: string;
  queue: string;
  body: string;
  /** When the job is due (ms). */
  runAtMs: number;
  taken: number;
}

/** One received delivery of a job with `flow.concurrency` and/or `flow.rateLimit`. */
export interface FlowAcquire {
  id: string;
  /** The delivery's lease token (the receipt handle). */
  lease: string;
  /** The lease length: the slot lives as long (extended by `extend`). */
  leaseMs: number;
  /** The backend's id of the message: a copy of a parked message seen again is recognised by it. */
  message: string;
  queue: string;
  /** The body, kept by the store while the job is parked. */
  body: string;
  concurrency?: { key: string; limit: number };
  rateLimit?: { key: string; limit: number; perMs: number };
}

/** The store's answer to one {@link FlowAcquire}, in order. */
export type FlowDecision =
  /** Both limits allow: the slot is held and the start recorded; hand the job out. */
  | { outcome: "leased" }
  /**
   * The concurrency key is full (or this message is the copy of a job parked before): the
   * store keeps the body, the status stays `queued`; delete the message.
   */
  | { outcome: "parked" }
  /** The rate limit allows no start before `untilMs`: nothing recorded; hide the message until then. */
  | { outcome: "deferred"; untilMs: number };

/** A settled delivery of a job with flow control, for {@link StatusStoreFlow.release}. */
export interface FlowRelease {
  id: string;
  /** Its concurrency key: the slot is freed and one parked job of the key let go. */
  concurrencyKey?: string;
  /** Its unique key, when the job finished for good: the lock record is let expire. */
  uniqueKey?: string;
}

/**
 * Flow control kept by a shared status store for a backend that holds only messages (the SQS
 * adapter). Every method is bulk and atomic per call on the store (one Lua script, one SQL
 * function); items are decided in order.
 *
 * The store and the backend are two systems, so every step that moves a body between them is
 * recorded first and confirmed after: a body the store hands out (`pending`) stays recorded
 * until `confirm`; one not confirmed within the adapter's bound is handed to another process
 * by `sweep`. State per job and key (statuses live in the same store):
 *
 * - unique lock: key → holder id, its `while`, expiry; blocks per the table in `FlowControl`.
 * - recurring: task → (lastTick, jobId).
 * - pending sends: id → token, queue, body, due time, taken time.
 * - slots: concurrency key → holders (id, lease end); expired holders are pruned when counted.
 * - parked: concurrency key → FIFO of ids, each with its body and the message it came in.
 * - rate windows: rate key → start times within the last `perMs`, expiring when idle.
 * - deferred: queue → ids with the time they may start (for `counts`), dropped when leased.
 */
export interface StatusStoreFlow {
  /**
   * Decides enqueues with `flow.unique` / `flow.recurring`, in order (the second of two
   * same-key jobs is a duplicate of the first): a duplicate stores nothing; any other job
   * gets its status (queued or scheduled, as `enqueued` records it), becomes the key's
   * holder / the task's last tick, and its body is kept as a pending send.
   */
  claim(items: readonly FlowClaim[]): Promise<FlowClaimResult[]>;
  /** The backend holds these messages: forget the pending sends (matched by id and token). */
  confirm(items: readonly { id: string; token: string }[]): Promise<void>;
  /**
   * The send of these claims failed: forget them as if never enqueued (status, pending send,
   * the key's hold, the task's tick put back to the one before). An entry the sweep handed
   * to another process since (its `taken` changed) is left to that process.
   */
  undo(items: readonly { id: string; token: string; taken: number }[]): Promise<void>;
  /**
   * Decides received deliveries of jobs with `flow.concurrency` / `flow.rateLimit`. Both
   * limits must allow for a job to be leased; nothing is recorded for either otherwise
   * (rate denies → deferred, no slot taken; concurrency denies → parked, no start recorded).
   */
  acquire(items: readonly FlowAcquire[]): Promise<FlowDecision[]>;
  /**
   * Pushes the slots of these running jobs to `leaseMs` from now (with their leases).
   * Returns the ids whose slot was lost: it ended (its end passed, so another job may hold
   * it) or was freed. Those are not taken again, and the adapter reports their leases lost.
   */
  extend(items: readonly { id: string; concurrencyKey: string }[], leaseMs: number): Promise<string[]>;
  /**
   * Settled deliveries (any outcome; the adapter passes current ones only): frees each slot
   * and lets go ONE parked job of its key, FIFO, returned as pending sends (its status stays
   * queued). A unique lock held by a finished job is let expire with its status.
   */
  release(items: readonly FlowRelease[]): Promise<FlowPending[]>;
  /**
   * The periodic upkeep, bounded by `limit` per part: hands over pending sends taken more than
   * `claimTimeoutMs` ago (renewing their `taken`: one process gets each), and lets go, for
   * keys with parked jobs, up to (limit − live holders) of them.
   */
  sweep(options: { claimTimeoutMs: number; limit: number }): Promise<FlowPending[]>;
  /** Each task's last stored tick, `null` for a task with none, in order. */
  recurringState(tasks: readonly string[]): Promise<(RecurringRecord | null)[]>;
  /**
   * Per queue, in order: jobs parked now, and jobs deferred whose allowed time is still
   * ahead. Both count as queued (the backend holds no visible message for them: a parked
   * job's message is gone, a deferred one's is hidden and would read as running).
   */
  counts(queues: readonly string[]): Promise<{ parked: number; deferred: number }[]>;
}

/**
 * Batches kept by a shared status store for a backend that holds only messages (the SQS
 * adapter): the record and counts of `adapter/batch.ts`, kept beside the statuses so that
 * "this job finished" and "the batch is done, its callbacks are due" are one atomic step of
 * the store (one Lua script, one SQL statement).
 *
 * Counting happens inside {@link StatusStore.enqueued} and {@link StatusStore.settled},
 * idempotent per job: the store remembers, per batch, each job's counted state (pending,
 * succeeded, discarded, dead), so
 *
 * - an enqueue of a job already counted pending (a resend) counts nothing; one of a job
 *   counted finished (a dead job moved back by `retryDead`) moves it back to pending
 *   (`dead` −1, `pending` +1);
 * - a settlement counts only when it applies: a stale one (its lease is no longer current)
 *   or one of a job already finished (a duplicate delivery) changes nothing;
 * - `retry` adds 1 to `failed`, once per current delivery; `released` counts nothing.
 *
 * When a count brings a sealed batch to no pending job, the same step records each callback
 * that applies and was not enqueued before: its status (queued, marked as a batch callback)
 * and its body as a pending send (`StatusStoreFlow`'s), returned to the adapter to send and
 * confirm; a process killed between that step and the send leaves the entry to the flow's
 * sweep, which sends it after the claim timeout. A callback whose message was sent twice
 * (the sender died between SQS's answer and the confirm) must not run twice: a delivery of
 * a callback whose status is finished is void (`StatusStoreControl.deliveries` answers it,
 * and the adapter deletes the copy unrun), and the adapter's upkeep confirms, instead of
 * resending, a swept callback whose status shows it delivered (no longer queued). FIFO
 * queues also collapse two sends of one entry by its token, and the SQS adapter deletes a
 * second copy received in the same reserve. What remains: two copies received by two
 * workers before either finished run side by side (a copy waited in the queue past the
 * claim timeout, 30 s by default, and the process that sent it died before confirming).
 */
export interface StatusStoreBatches {
  /** Stores new batches, open, every count at 0. An id stored before fails the call, naming it. */
  open(batches: readonly NewBatch[]): Promise<void>;
  /**
   * Seals batches (their creator enqueued everything). A batch with no pending job finishes
   * here: its callbacks come back as pending sends, as from `settled`. An unknown id fails
   * the call, naming it; sealing a sealed batch changes nothing.
   */
  seal(ids: readonly string[]): Promise<FlowPending[]>;
  /** Batch records by id, `null` for an unknown or expired one, in order. */
  get(ids: readonly string[]): Promise<(BatchRecord | null)[]>;
}
