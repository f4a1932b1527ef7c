/**
 * The recording test adapter (`adapter: { test: "test" }`), as ActiveJob's TestAdapter:
 * jobs are stored, not run, and every enqueue and perform is recorded for assertions
 * (`@errand/core/testing`: `assertEnqueued`, `assertPerformed`, `performEnqueuedJobs`).
 * It is a complete adapter, so a worker can also run its jobs.
 *
 * @module
 */
import type { Runtime } from "../runtime.js";
import {
  baseCapabilities,
  type Adapter,
  type AdapterCapabilities,
  type DeadJob,
  type EnqueueOptions,
  type EnqueueResult,
  type ExtendLeaseOptions,
  type GetStatusOptions,
  type JobPayload,
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
import { SimpleMemoryStore, type StoredJob } from "../adapter/memory-queue.js";

/** A recorded enqueue or perform. */
export interface RecordedJob {
  payload: JobPayload;
  /** When it was recorded. */
  at: Date;
}

/** Records jobs instead of running them. */
export class TestAdapter implements Adapter {
  readonly name: string = "test";
  readonly capabilities: AdapterCapabilities = { ...baseCapabilities, wildcardQueues: true };
  /** Every payload enqueued, in order (cleared by `clear()`). */
  readonly enqueued: RecordedJob[] = [];
  /** Every job performed through this adapter, in order (cleared by `clear()`). */
  readonly performed: RecordedJob[] = [];
  /** The underlying store: pending jobs, leases, dead set, statuses. */
  readonly store = new SimpleMemoryStore();

  constructor(readonly runtime?: Runtime) {}

  /** Forgets every job, recorded or stored. */
  clear(): void {
    this.enqueued.length = 0;
    this.performed.length = 0;
    this.store.pending = [];
    this.store.leased.clear();
    this.store.dead.length = 0;
  }

  async enqueue({ jobs }: EnqueueOptions): Promise<EnqueueResult[]> {
    const at = new Date();
    for (const payload of jobs) this.enqueued.push({ payload, at });
    return this.store.add(jobs);
  }

  /** Takes stored jobs (scheduled ones too when `includeScheduled`) for `performEnqueuedJobs` and inline runs. */
  takePending(filter: (job: StoredJob) => boolean, options: { includeScheduled?: boolean; max?: number } = {}): Reservation[] {
    return this.store.take({ queues: "*", max: options.max ?? Number.MAX_SAFE_INTEGER, leaseMs: 300_000 }, filter, options.includeScheduled);
  }

  async reserve(options: ReserveOptions): Promise<Reservation[]> {
    return this.store.take(options);
  }

  async settle({ settlements }: SettleOptions): Promise<void> {
    const at = new Date();
    for (const { job, settlement } of this.store.settle(settlements)) {
      if (settlement.outcome !== "released") this.performed.push({ payload: job.payload, at });
    }
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
