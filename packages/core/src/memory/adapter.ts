/**
 * `MemoryAdapter`: the members every in-memory adapter answers the same way, straight from
 * core's `MemoryStore` — enqueue, a non-waiting reserve, settle, leases, progress, status,
 * queues and the dead set, and the operator's members (listing.ts, control.ts), answered
 * when the subclass turns `listJobs` and `control` on. The async, test and inline adapters
 * extend it and add only what differs: the async adapter's waiting reserve, the test
 * adapter's records.
 *
 * @module
 */
import {
  baseCapabilities,
  type Adapter,
  type AdapterCapabilities,
  type BatchRecord,
  type ChangeJobsOptions,
  type DeadJob,
  type EnqueueOptions,
  type EnqueueResult,
  type ExtendLeaseOptions,
  type GetBatchesOptions,
  type GetStatusOptions,
  type HeartbeatOptions,
  type HeartbeatResult,
  type JobPage,
  type ListDeadOptions,
  type ListJobsOptions,
  type ListQueuesOptions,
  type OpenBatchesOptions,
  type PauseQueuesOptions,
  type PurgeDeadOptions,
  type QueueInfo,
  type RecurringRecord,
  type RecurringStateOptions,
  type Reservation,
  type ReserveOptions,
  type RetryDeadOptions,
  type SealBatchesOptions,
  type SetProgressOptions,
  type SettleOptions,
  type StatusFeed,
  type StatusFeedOptions,
  type StatusRecord,
  type WorkerRecord,
} from "../adapter/contract.js";
import { ConfigError, UnsupportedError } from "../errors.js";
import { MemoryControl } from "./control.js";
import { listJobs } from "./listing.js";
import { MemoryStore, type MemoryStoreOptions } from "./store.js";
import { KEPT_MINUTES } from "./throughput.js";

/**
 * What an in-memory store does: priorities, any delay, every queue (`"*"`), a status feed,
 * flow control (unique, concurrency and rate limits, recurring ticks) and batches in
 * process; not durable. Subclasses spread it and add theirs.
 */
export const memoryCapabilities: AdapterCapabilities = Object.freeze({
  ...baseCapabilities,
  wildcardQueues: true,
  statusFeed: true,
  unique: true,
  concurrencyLimits: true,
  rateLimits: true,
  recurring: true,
  batches: true,
});

/** An adapter over core's in-memory store; subclasses name themselves and add what differs. */
export abstract class MemoryAdapter implements Adapter {
  /** The adapter's name in errors and events (`"async"`, `"test"`, `"inline"`). */
  abstract readonly name: string;
  /** {@link memoryCapabilities}. */
  readonly capabilities: AdapterCapabilities = memoryCapabilities;
  /** The store: jobs, leases, the dead set and statuses. */
  readonly store: MemoryStore;
  /** The operator's state: paused queues, abort marks, workers, throughput. */
  readonly control: MemoryControl;

  /** A fresh, empty store; `options` tune it (finished statuses' retention). */
  constructor(options: MemoryStoreOptions = {}) {
    this.store = new MemoryStore(options);
    this.control = new MemoryControl(this.store);
  }

  /** Stores the jobs: ready at once, or scheduled by their `runAt`. */
  async enqueue({ jobs }: EnqueueOptions): Promise<EnqueueResult[]> {
    return this.store.add(jobs);
  }

  /** Takes what is due now, leaving out the queues in `except`; never waits. */
  async reserve({ queues, except, max, leaseMs }: ReserveOptions): Promise<Reservation[]> {
    return this.store.take(queues, max, leaseMs, except);
  }

  /** Applies outcomes; a stale holder's (its lease ran out and the job went to another) changes nothing. */
  async settle({ settlements }: SettleOptions): Promise<void> {
    this.control.settled(this.store.settle(settlements));
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

  /**
   * Every queue holding jobs or dead jobs, with its counts. With `listJobs`, the counts of
   * finished statuses kept and the latency too (and queues with only those are listed); with
   * `control`, whether each is paused, paused queues and queues with runs counted in the
   * last 24 h listed even when empty, and throughput when `throughputMinutes` asks for it.
   */
  async listQueues(options: ListQueuesOptions = {}): Promise<QueueInfo[]> {
    const { listJobs: details, control } = this.capabilities;
    const minutes = options.throughputMinutes;
    if (minutes !== undefined) {
      if (!control) throw new UnsupportedError(`the ${this.name} adapter keeps no throughput (capability control)`);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > KEPT_MINUTES) {
        throw new ConfigError(`listQueues: throughputMinutes must be an integer from 1 to ${KEPT_MINUTES}, got ${JSON.stringify(minutes)}`);
      }
    }
    if (!control) return this.store.queues(details);
    const now = Date.now();
    const infos = this.store.queues(details, this.control.knownQueues(now));
    for (const info of infos) {
      info.paused = this.control.isPaused(info.name);
      if (minutes !== undefined) info.throughput = this.control.throughput.read(info.name, minutes, now);
    }
    return infos;
  }

  /** A page of one state's jobs, or jobs by id (`capabilities.listJobs`; listing.ts). */
  async listJobs(options: ListJobsOptions): Promise<JobPage> {
    this.require("listJobs");
    return listJobs(this.store, options);
  }

  /** Cancels, runs now or aborts jobs (`capabilities.control`; control.ts). */
  async changeJobs(options: ChangeJobsOptions): Promise<string[]> {
    this.require("control");
    return this.control.changeJobs(options);
  }

  /** Pauses or resumes queues (`capabilities.control`). */
  async pauseQueues(options: PauseQueuesOptions): Promise<void> {
    this.require("control");
    this.control.pauseQueues(options);
  }

  /** Stores a worker's beat; reads back pauses and aborts (`capabilities.control`). */
  async heartbeat(options: HeartbeatOptions): Promise<HeartbeatResult> {
    this.require("control");
    return this.control.heartbeat(options);
  }

  /** Workers whose records are kept, live or gone, by id (`capabilities.control`). */
  async listWorkers(): Promise<WorkerRecord[]> {
    this.require("control");
    return this.control.listWorkers();
  }

  /** Refuses an operator's member on a subclass that keeps its capability off (the inline adapter). */
  private require(capability: "listJobs" | "control" | "batches"): void {
    if (!this.capabilities[capability]) throw new UnsupportedError(`the ${this.name} adapter does not support this (capability ${capability})`);
  }

  /** Stores new batches, open (`capabilities.batches`; memory/batches.ts). */
  async openBatches({ batches }: OpenBatchesOptions): Promise<void> {
    this.require("batches");
    this.store.batches.open(batches, Date.now());
  }

  /** Seals batches; a batch already done finishes here, its callbacks stored. */
  async sealBatches({ ids }: SealBatchesOptions): Promise<void> {
    this.require("batches");
    this.store.batches.seal(ids, Date.now());
  }

  /** Batch records by id, `null` for unknown or expired ones, in order. */
  async getBatches({ ids }: GetBatchesOptions): Promise<(BatchRecord | null)[]> {
    this.require("batches");
    return this.store.batches.get(ids);
  }

  /** Dead jobs, newest first. */
  async listDead({ queue, limit = 100, offset = 0 }: ListDeadOptions): Promise<DeadJob[]> {
    return this.store.dead.list(queue, limit, offset);
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
