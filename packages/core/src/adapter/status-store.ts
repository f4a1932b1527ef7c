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
import type { JobPayload, Settlement, StatusFeed, StatusFeedOptions, StatusRecord } from "./contract.js";

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
  /** Records stored jobs (queued or scheduled by their `runAt`). */
  enqueued(payloads: readonly JobPayload[]): Promise<void>;
  /** Records deliveries to a worker: running, one more execution, the new lease. */
  started(leases: readonly StatusLease[]): Promise<void>;
  /**
   * Of these deliveries, the ones whose lease is no longer the job's current one (the job was
   * delivered again since, or finished). A job the store does not know counts as current.
   */
  stale(leases: readonly StatusLease[]): Promise<Set<string>>;
  /** Records how deliveries ended; stale ones are left alone. */
  settled(items: readonly (StatusLease & { settlement: Settlement })[]): Promise<void>;
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
  /** Forgets jobs (purged from the backend). */
  delete(ids: readonly string[]): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}
