/**
 * The outbox's contract (issue 16): jobs made inside an app's transaction whose adapter
 * cannot join it are written, in that transaction, to a table of the app's database; a relay
 * then moves them to their adapter, each exactly once there. Core decides when a job goes to
 * the outbox; an adapter package (`@errand/adapter-postgres`) stores and relays.
 *
 * @module
 */
import type { JobPayload } from "../adapter/contract.js";
import type { TransactionConnection } from "./connection.js";

/** A job on its way through the outbox: its payload, and the adapter it is for (`undefined`: the default). */
export interface OutboxJob {
  /** The adapter name the job's class is pinned to (`undefined`: the default adapter). */
  adapter: string | undefined;
  /** The job, as it will be enqueued on that adapter. */
  payload: JobPayload;
}

/** What the relay is given: how to send, when to stop, where errors go. */
export interface OutboxRelayOptions {
  /** Enqueues a batch on the named adapter, idempotently by job id. */
  send(adapter: string | undefined, payloads: JobPayload[]): Promise<void>;
  /** Stops the relay; `relay()` resolves once it has. */
  signal: AbortSignal;
  /** A failed round (the target down, the database gone): reported, and the relay goes on. */
  onError(error: unknown): void;
}

/** `defineConfig({ outbox })`: where jobs made inside a transaction go when their adapter cannot join it. */
export interface Outbox {
  /** The connection dialect it writes through (`"postgres"`). */
  readonly dialect: string;
  /** Stores jobs in the connection's transaction: they exist, and are relayed, only if it commits. */
  write(connection: TransactionConnection, jobs: readonly OutboxJob[]): Promise<void>;
  /** Moves stored jobs to their adapters until `signal` aborts; resolves when stopped. */
  relay(options: OutboxRelayOptions): Promise<void>;
  /** Releases its connections. */
  close(): Promise<void>;
}
