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
import { MemoryStore } from "../memory/store.js";

/** A stored job as `takePending` filters see it. */
export interface PendingJob {
  providerJobId: string;
  /** When it may run, in ms since the epoch. */
  runAtMs: number;
  payload: Pick<JobPayload, "id" | "job" | "queue" | "priority" | "executions">;
}

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
  /** The underlying store (core's in-memory store, as the async adapter's): jobs, leases, dead set, statuses. */
  readonly store = new MemoryStore();

  constructor(readonly runtime?: Runtime) {}

  /** Forgets every job, recorded or stored. */
  clear(): void {
    this.enqueued.length = 0;
    this.performed.length = 0;
    this.store.clear();
  }

  async enqueue({ jobs }: EnqueueOptions): Promise<EnqueueResult[]> {
    const at = new Date();
    for (const payload of jobs) this.enqueued.push({ payload, at });
    return this.store.add(jobs);
  }

  /**
   * Leases stored jobs `filter` accepts (scheduled ones too when `includeScheduled`, in
   * run-time order), for `performEnqueuedJobs` and inline runs.
   */
  takePending(filter: (job: PendingJob) => boolean, options: { includeScheduled?: boolean; max?: number } = {}): Reservation[] {
    return this.store.takeWhere(
      (job) =>
        filter({
          providerJobId: job.providerJobId,
          runAtMs: job.runAtMs,
          payload: { id: job.jobId, job: job.job, queue: job.queue, priority: job.priority, executions: job.executions },
        }),
      { ...options, leaseMs: 300_000 },
    );
  }

  async reserve({ queues, max, leaseMs }: ReserveOptions): Promise<Reservation[]> {
    return this.store.take(queues, max, leaseMs);
  }

  async settle({ settlements }: SettleOptions): Promise<void> {
    const at = new Date();
    for (const settlement of this.store.settle(settlements)) {
      if (settlement.outcome === "released") continue;
      // The payload the job ran with; a body that is not JSON never ran, so it is not recorded.
      const payload = performedPayload(settlement.reservation.body);
      if (payload) this.performed.push({ payload, at });
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

function performedPayload(body: string): JobPayload | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === "object" && value !== null ? (value as JobPayload) : undefined;
  } catch {
    return undefined;
  }
}
