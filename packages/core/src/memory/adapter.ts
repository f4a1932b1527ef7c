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
  type Reservation,
  type ReserveOptions,
  type RetryDeadOptions,
  type SetProgressOptions,
  type SettleOptions,
  type StatusRecord,
} from "../adapter/contract.js";
import { MemoryStore, type MemoryStoreOptions } from "./store.js";

/** An adapter over core's in-memory store; subclasses name themselves and add what differs. */
export abstract class MemoryAdapter implements Adapter {
  abstract readonly name: string;
  /** What an in-memory store does: priorities, any delay, every queue (`"*"`); not durable. */
  readonly capabilities: AdapterCapabilities = { ...baseCapabilities, wildcardQueues: true };
  /** The store: jobs, leases, the dead set and statuses. */
  readonly store: MemoryStore;

  constructor(options: MemoryStoreOptions = {}) {
    this.store = new MemoryStore(options);
  }

  async enqueue({ jobs }: EnqueueOptions): Promise<EnqueueResult[]> {
    return this.store.add(jobs);
  }

  /** Takes what is due now; never waits. */
  async reserve({ queues, max, leaseMs }: ReserveOptions): Promise<Reservation[]> {
    return this.store.take(queues, max, leaseMs);
  }

  async settle({ settlements }: SettleOptions): Promise<void> {
    this.store.settle(settlements);
  }

  async extendLease({ reservations, leaseMs }: ExtendLeaseOptions): Promise<string[]> {
    return this.store.extend(reservations, leaseMs);
  }

  async setProgress({ updates }: SetProgressOptions): Promise<void> {
    for (const update of updates) this.store.statuses.progress(update.jobId, update.fraction, update.message);
  }

  async getStatus({ ids }: GetStatusOptions): Promise<(StatusRecord | null)[]> {
    return ids.map((id) => this.store.statuses.get(id));
  }

  async listQueues(): Promise<QueueInfo[]> {
    return this.store.queues();
  }

  async listDead({ queue, limit = 100, offset = 0 }: ListDeadOptions): Promise<DeadJob[]> {
    return this.store.listDead(queue, limit, offset);
  }

  async retryDead({ select, revive }: RetryDeadOptions): Promise<number> {
    return this.store.retryDead(select, revive);
  }

  async purgeDead({ select }: PurgeDeadOptions): Promise<number> {
    return this.store.purgeDead(select);
  }

  async close(): Promise<void> {}
}
