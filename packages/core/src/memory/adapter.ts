/**
 * `MemoryAdapter`: the members every in-memory adapter answers the same way, straight from
 * core's `MemoryStore` — enqueue, a non-waiting reserve, settle, leases, progress, status,
 * queues and the dead set. The async, test and inline adapters extend it and add only what
 * differs: the async adapter's waiting reserve, the test adapter's records.
 *
 * @module
 */
import {
  baseCapabilities,
  type Adapter,
  type AdapterCapabilities,
  type DeadJob,
  type EnqueueOptions,
  type EnqueueResult,
  type ExtendLeaseOptions,
  type GetStatusOptions,
  type ListDeadOptions,
  type PurgeDeadOptions,
  type QueueInfo,
  type RecurringRecord,
  type RecurringStateOptions,
  type Reservation,
  type ReserveOptions,
  type RetryDeadOptions,
  type SetProgressOptions,
  type SettleOptions,
  type StatusFeed,
  type StatusFeedOptions,
  type StatusRecord,
} from "../adapter/contract.js";
import { MemoryStore, type MemoryStoreOptions } from "./store.js";

/**
 * What an in-memory store does: priorities, any delay, every queue (`"*"`), a status feed
 * and flow control (unique, concurrency and rate limits, recurring ticks) in process; not
 * durable. Subclasses spread it and add theirs.
 */
export const memoryCapabilities: AdapterCapabilities = Object.freeze({
  ...baseCapabilities,
  wildcardQueues: true,
  statusFeed: true,
  unique: true,
  concurrencyLimits: true,
  rateLimits: true,
  recurring: true,
});

/** An adapter over core's in-memory store; subclasses name themselves and add what differs. */
export abstract class MemoryAdapter implements Adapter {
  /** The adapter's name in errors and events (`"async"`, `"test"`, `"inline"`). */
  abstract readonly name: string;
  /** {@link memoryCapabilities}. */
  readonly capabilities: AdapterCapabilities = memoryCapabilities;
  /** The store: jobs, leases, the dead set and statuses. */
  readonly store: MemoryStore;

  /** A fresh, empty store; `options` tune it (finished statuses' retention). */
  constructor(options: MemoryStoreOptions = {}) {
    this.store = new MemoryStore(options);
  }

  /** Stores the jobs: ready at once, or scheduled by their `runAt`. */
  async enqueue({ jobs }: EnqueueOptions): Promise<EnqueueResult[]> {
    return this.store.add(jobs);
  }

  /** Takes what is due now; never waits. */
  async reserve({ queues, max, leaseMs }: ReserveOptions): Promise<Reservation[]> {
    return this.store.take(queues, max, leaseMs);
  }

  /** Applies outcomes; a stale holder's (its lease ran out and the job went to another) changes nothing. */
  async settle({ settlements }: SettleOptions): Promise<void> {
    this.store.settle(settlements);
  }

  /** Pushes the leases' deadlines out; returns the jobs whose lease was already lost. */
  async extendLease({ reservations, leaseMs }: ExtendLeaseOptions): Promise<string[]> {
    return this.store.extend(reservations, leaseMs);
  }

  /** Records the latest progress of running jobs. */
  async setProgress({ updates }: SetProgressOptions): Promise<void> {
    for (const update of updates) this.store.statuses.progress(update.jobId, update.fraction, update.message);
  }

  /** Statuses by id, `null` for unknown or expired ones, in order. */
  async getStatus({ ids }: GetStatusOptions): Promise<(StatusRecord | null)[]> {
    return ids.map((id) => this.store.statuses.get(id));
  }

  /**
   * Reports the ids of jobs whose status changed, in one call per microtask batch (a bulk
   * enqueue is one call). In process: it never disconnects, so `onReconnect` is never called.
   */
  openStatusFeed(options: StatusFeedOptions): Promise<StatusFeed> {
    return this.store.statuses.events.open(options);
  }

  /** Each recurring task's last stored tick, `null` for a task with none. */
  async recurringState({ tasks }: RecurringStateOptions): Promise<(RecurringRecord | null)[]> {
    return this.store.recurringState(tasks);
  }

  /** Every queue the store has seen, with its counts. */
  async listQueues(): Promise<QueueInfo[]> {
    return this.store.queues();
  }

  /** Dead jobs, newest first. */
  async listDead({ queue, limit = 100, offset = 0 }: ListDeadOptions): Promise<DeadJob[]> {
    return this.store.listDead(queue, limit, offset);
  }

  /** Stores the chosen dead jobs again as core revives them; returns how many. */
  async retryDead({ select, revive }: RetryDeadOptions): Promise<number> {
    return this.store.retryDead(select, revive);
  }

  /** Forgets the chosen dead jobs; returns how many. */
  async purgeDead({ select }: PurgeDeadOptions): Promise<number> {
    return this.store.purgeDead(select);
  }

  /** Nothing to release: the store lives as long as the adapter object. */
  async close(): Promise<void> {}
}
