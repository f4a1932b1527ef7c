/**
 * The recording test adapter (`adapter: { test: "test" }`), as ActiveJob's TestAdapter:
 * jobs are stored, not run, and every enqueue and perform is recorded for assertions
 * (`@errand/core/testing`: `assertEnqueued`, `assertPerformed`, `performEnqueuedJobs`).
 * It is a complete adapter, so a worker can also run its jobs.
 *
 * @module
 */
import type { Runtime } from "../runtime.js";
import type { AdapterCapabilities, EnqueueOptions, EnqueueResult, JobPayload, Reservation, SettleOptions } from "../adapter/contract.js";
import { MemoryAdapter, memoryCapabilities } from "../memory/adapter.js";

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

/** Records jobs instead of running them; its store is core's in-memory store, as the async adapter's. */
export class TestAdapter extends MemoryAdapter {
  readonly name: string = "test";
  /** The in-memory store's, and the operator's members (listing jobs, control), so apps can test their dashboards and tools. */
  override readonly capabilities: AdapterCapabilities = { ...memoryCapabilities, listJobs: true, control: true };
  /** Every payload enqueued, in order, a finishing batch's callbacks included (cleared by `clear()`). */
  readonly enqueued: RecordedJob[] = [];
  /** Every job performed through this adapter, in order (cleared by `clear()`). */
  readonly performed: RecordedJob[] = [];

  constructor(readonly runtime?: Runtime) {
    super();
    // A batch's callbacks are stored by the store itself when the batch finishes: recorded as enqueued then.
    this.store.batches.onCallbacksStored = (payloads) => {
      const at = new Date();
      for (const payload of payloads) this.enqueued.push({ payload, at });
    };
  }

  /** Forgets every job, recorded or stored, and the operator's pauses, abort marks and throughput. */
  clear(): void {
    this.enqueued.length = 0;
    this.performed.length = 0;
    this.store.clear();
    this.control.clear();
  }

  /** Stores the payloads, then records in `enqueued` each one stored (a duplicate is not). */
  override async enqueue(options: EnqueueOptions): Promise<EnqueueResult[]> {
    const at = new Date();
    const results = await super.enqueue(options);
    options.jobs.forEach((payload, index) => {
      if (results[index]!.duplicate !== true) this.enqueued.push({ payload, at });
    });
    return results;
  }

  /**
   * Leases stored jobs `filter` accepts (scheduled ones too when `includeScheduled`, in
   * run-time order), for `performEnqueuedJobs` and inline runs. Concurrency and rate limits
   * are not asked (a test runs what it chose to run), though the jobs do hold their slots;
   * jobs a worker parked or deferred are not offered.
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

  /**
   * Applies outcomes, recording in `performed` the payload of each job that ran (every
   * outcome but a hand-back; stale settlements and bodies that are not JSON are not recorded).
   */
  override async settle({ settlements }: SettleOptions): Promise<void> {
    const at = new Date();
    const applied = this.store.settle(settlements);
    this.control.settled(applied);
    for (const settlement of applied) {
      if (settlement.outcome === "released") continue;
      // The payload the job ran with; a body that is not JSON never ran, so it is not recorded.
      const payload = performedPayload(settlement.reservation.body);
      if (payload) this.performed.push({ payload, at });
    }
  }
}

function performedPayload(body: string): JobPayload | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === "object" && value !== null ? (value as JobPayload) : undefined;
  } catch {
    return undefined;
  }
}
