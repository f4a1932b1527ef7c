/**
 * Batches, as the adapter contract sees them (`capabilities.batches`): a record per batch
 * that counts its jobs as they finish, and callback jobs the backend enqueues itself, each
 * at most once, when the count says the batch is done. Core builds every payload (the
 * batch's jobs and its callbacks) and decides nothing else here: the counting is the
 * backend's, because only the backend can make "this job finished" and "the batch is now
 * done, enqueue its callback" one atomic step — the step whose absence leaves BullMQ's flow
 * parents stuck in `waiting-children`, or fires a callback twice.
 *
 * The life of a batch record (states are {@link BatchState}):
 *
 * - **open** — `openBatches` stored it with every count at 0. Each job enqueued with
 *   `payload.batch = { id }` (and no `callback`) adds 1 to `total` and `pending`, in the same
 *   atomic step that stores the job. Jobs finishing are counted as below, but the batch
 *   cannot finish while open: its creator may still be enqueueing.
 * - **running** — `sealBatches` says the creator has enqueued everything. Jobs enqueued
 *   later with the batch's id (fan-out from inside one of its jobs, `this.batch.add`) are
 *   still counted: the job adding them has not finished, so `pending` cannot reach 0 first.
 * - **finished** — the settle (or seal) that brings `pending` to 0 while sealed also, in
 *   the same atomic step, enqueues the callbacks that apply and records their job ids:
 *   `complete` always; `success` when `discarded + dead` is 0; `failure` otherwise. Each
 *   callback kind is enqueued at most once in a batch's life, whatever happens after.
 *
 * Counting, at settle (only the current holder's settlement counts, as for every settle):
 * `succeeded` → `succeeded` +1; `failed` (discarded) → `discarded` +1; `dead` → `dead` +1;
 * each of these `pending` −1. `retry` → `failed` +1 (a failed run; the job is still
 * pending). `released` changes nothing. A job is counted finished once: a dead job moved
 * back by `retryDead` goes back to `pending` (`dead` −1, `pending` +1), and when it then
 * finishes it is counted again; a batch that finished stays finished (callbacks already
 * enqueued are not enqueued again), but a `success` callback not yet enqueued is, when the
 * batch comes to have no discarded or dead job left — Sidekiq Pro's rule for a dead job
 * retried by hand.
 *
 * A job an operator cancels (`changeJobs({ action: "cancel" })`, `capabilities.control`)
 * will not run: it is counted as discarded (`discarded` +1, `pending` −1), in the same
 * atomic step as the cancel, so its batch still finishes. (Added with the memory store's
 * batches: the first version of this contract did not say, and a cancelled job left its
 * batch running for ever.)
 *
 * Callback payloads (`payload.batch.callback` set) are plain jobs, never counted in any
 * batch; core refuses callback job classes with flow control or an ordering group, so the
 * backend stores them as it stores any ready job. An enqueue naming a batch the backend does not hold fails the whole call with an
 * error naming the batch id. Records are kept at least as long as the backend keeps
 * finished jobs, and may be deleted with them after the batch finished.
 *
 * @module
 */
import type { JobPayload } from "./payload.js";

/** Where a batch stands; see the module comment for the transitions. */
export type BatchState = "open" | "running" | "finished";

/** The callbacks a batch can enqueue when it finishes. */
export type BatchCallbackKind = "success" | "complete" | "failure";

/** A batch to store, as core builds it for {@link BatchAdapter.openBatches}. */
export interface NewBatch {
  /** The batch id (a UUIDv7, made by core). */
  id: string;
  /** Free text for people (the dashboard, `errand batches`). */
  description?: string;
  /**
   * The callback jobs, built by core at the batch's creation with `batch: { id, callback }`
   * set, enqueued by the backend as they are when the batch finishes (their `enqueuedAt`
   * and `runAt` stay the batch's creation time: they run as soon as they are stored).
   */
  callbacks: Partial<Record<BatchCallbackKind, JobPayload>>;
  /** ISO-8601 creation time. */
  createdAt: string;
}

/** A stored batch, as {@link BatchAdapter.getBatches} reports it. */
export interface BatchRecord {
  id: string;
  description?: string;
  state: BatchState;
  /** Jobs enqueued into the batch so far (fan-out included). */
  total: number;
  /** Jobs not yet finished (`total − succeeded − discarded − dead`). */
  pending: number;
  succeeded: number;
  /** Jobs that failed for good and were dropped (`discardOn`). */
  discarded: number;
  /** Jobs in the dead set. */
  dead: number;
  /** Failed runs that were retried (a job failing twice then succeeding counts 2). */
  failed: number;
  /** The callbacks the batch was given, by kind (true: one was given). */
  callbacks: Partial<Record<BatchCallbackKind, true>>;
  /** The job ids of the callbacks enqueued so far, by kind. */
  enqueuedCallbacks: Partial<Record<BatchCallbackKind, string>>;
  /** ISO-8601 times. */
  createdAt: string;
  /** When the batch finished; absent until then. */
  finishedAt?: string;
}

/** Options of {@link BatchAdapter.openBatches}. */
export interface OpenBatchesOptions {
  batches: NewBatch[];
}

/** Options of {@link BatchAdapter.sealBatches}. */
export interface SealBatchesOptions {
  /** Batch ids; an unknown id is an error naming it. */
  ids: string[];
}

/** Options of {@link BatchAdapter.getBatches}. */
export interface GetBatchesOptions {
  ids: string[];
}

/**
 * The three members an adapter with `capabilities.batches` implements, besides counting in
 * `enqueue`, `settle` and `retryDead` as the module comment says.
 */
export interface BatchAdapter {
  /** Store new batches, open, every count at 0. Storing an id twice is an error. */
  openBatches(options: OpenBatchesOptions): Promise<void>;
  /**
   * Mark batches as fully enqueued by their creator. A batch whose jobs have all finished
   * already (or that has none) finishes here, enqueueing its callbacks. Sealing a sealed
   * batch changes nothing.
   */
  sealBatches(options: SealBatchesOptions): Promise<void>;
  /** Batch records by id, `null` for an unknown (or expired) id, in order. */
  getBatches(options: GetBatchesOptions): Promise<(BatchRecord | null)[]>;
}
