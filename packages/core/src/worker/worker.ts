/**
 * The worker loop, the same for every backend.
 *
 * A worker has `concurrency` slots and a local buffer of up to `prefetch` reserved jobs.
 * One fetch loop (`fetch-loop.ts`, with its own states) keeps the buffer topped up with
 * bulk `reserve` calls (queues ordered by weight on each call); finished jobs free slots that are refilled from the buffer at
 * once, without waiting for a round trip. Settlements and progress go out in batches
 * (`batcher.ts`). Every held job — running or buffered — has its lease renewed every third
 * of the lease (`lease.ts`, from `start()` until the end of shutdown); a job whose lease
 * was lost is dropped or aborted and its outcome is not written. Options and their
 * defaults are resolved in `options.ts`.
 *
 * With recurring tasks in the config whose jobs live on this worker's adapter, the worker
 * also runs their scheduler (`recurring/scheduler.ts`) from start to the beginning of
 * shutdown, unless `recurring: false`.
 *
 * States:
 *
 * - `new` → `start()` → `running`: the fetch loop runs. When a reserve finds nothing and
 *   nothing is running or buffered, the worker is idle (`worker:idle`); the next reserve
 *   waits for work (blocking backends) or the loop sleeps `pollInterval` (polling ones).
 * - `running` → `stop()` (first SIGTERM/SIGINT) → `stopping`: the fetch loop stops, the
 *   buffered jobs are handed back (`released`) at once, running jobs get `shutdownGrace`
 *   to finish (a resumable job stops at its next checkpoint and is re-enqueued with its
 *   progress); those still running then have their `signal` aborted and are handed back
 *   too. Pending batches are flushed, then lease renewal stops.
 * - `stopping` → `stopped` (`worker:stop`). A second signal is the CLI's business: it
 *   exits the process at once.
 *
 * @module
 */
import type { AdapterClient } from "../backends/client.js";
import { baseCapabilities, type Reservation, type Settlement } from "../adapter/contract.js";
import { ConfigError, ShutdownError } from "../errors.js";
import { executeReservation, type ExecutionContext } from "../job/execution.js";
import { schedulerFor, type RecurringScheduler } from "../recurring/for-worker.js";
import { currentRuntime, type Runtime } from "../runtime.js";
import { SettleBatcher } from "./batcher.js";
import { DrainWaiters } from "./drain-waiters.js";
import { abortRunning, interruptRunning, releasePaused, reserveQueues, runningInfo } from "./control.js";
import { FetchLoop } from "./fetch-loop.js";
import { Heartbeat } from "./heartbeat.js";
import { LeaseRenewer } from "./lease.js";
import { RunningJobs, type RunningJob } from "./slots.js";
import { resolveWorkerOptions, type WorkerOptions } from "./options.js";
import { describeQueues, selectQueues, type QueueSelection } from "./queues.js";
import { warnAtStart } from "./warnings.js";

export { LeaseLostError } from "./lease.js";
export { ShutdownError } from "../errors.js";
export type { WorkerOptions } from "./options.js";

/** The worker's lifecycle state. */
export type WorkerState = "new" | "running" | "stopping" | "stopped";

/** Runs jobs from one adapter. */
export class Worker {
  /** Identifies this worker. */
  readonly id: string;
  readonly runtime: Runtime;
  readonly concurrency: number;
  /** The buffer size the worker starts with. */
  readonly prefetch: number;
  /**
   * The buffer size it may grow to when jobs finish faster than a reserve returns: the
   * backend's `capabilities.maxPrefetch` (known from `start()`), or `prefetch` when the app
   * fixed it.
   */
  get maxPrefetch(): number {
    if (this.prefetchFixed) return this.prefetch;
    return Math.max(this.prefetch, (this.client as AdapterClient | undefined)?.capabilities.maxPrefetch ?? baseCapabilities.maxPrefetch);
  }
  private readonly prefetchFixed: boolean;
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  readonly shutdownGraceMs: number;
  /** Whether this worker runs the recurring scheduler (when the config has tasks for its adapter). */
  readonly recurring: boolean;
  private readonly options: WorkerOptions;
  private scheduler: RecurringScheduler | undefined;
  private selection!: QueueSelection;
  private client!: AdapterClient;
  private batcher!: SettleBatcher;
  private stateValue: WorkerState = "new";
  private readonly buffer: Reservation[] = [];
  private readonly running = new RunningJobs();
  private readonly fetchController = new AbortController();
  private loop: FetchLoop | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private leases: LeaseRenewer | undefined;
  private idle = false;
  private readonly drainWaiters = new DrainWaiters();
  private stopping: Promise<void> | undefined;
  private untrack: (() => void) | undefined;
  private executionContext!: ExecutionContext;
  private starting: Promise<void> | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private heartbeat: Heartbeat | undefined;
  /** Jobs handed back by this stop: the buffer's, a reserve's that answered after the stop began, and those abandoned after the grace. */
  private releasedAtStop = 0;
  /** Jobs finished by this worker (any outcome). */
  processed = 0;

  constructor(options: WorkerOptions = {}) {
    this.options = options;
    this.runtime = options.runtime ?? currentRuntime();
    const resolved = resolveWorkerOptions(options, this.runtime.workerSettings);
    this.id = resolved.id;
    this.concurrency = resolved.concurrency;
    this.prefetch = resolved.prefetch;
    this.prefetchFixed = resolved.prefetchFixed;
    this.leaseMs = resolved.leaseMs;
    this.pollIntervalMs = resolved.pollIntervalMs;
    this.shutdownGraceMs = resolved.shutdownGraceMs;
    this.recurring = resolved.recurring;
  }

  /** The worker's state. */
  get state(): WorkerState {
    return this.stateValue;
  }

  /** Jobs running now. */
  get runningCount(): number {
    return this.running.size;
  }

  /** Jobs reserved and waiting in the local buffer. */
  get bufferedCount(): number {
    return this.buffer.length;
  }

  /** Names of the recurring tasks whose ticks this worker enqueues (none before `start()`, or with `recurring: false`). */
  get recurringTasks(): string[] {
    return this.scheduler?.taskNames ?? [];
  }

  /** The queues this worker takes from, as configured (prefix applied). */
  get queues(): string {
    return describeQueues(this.selection);
  }

  /** Connects, loads job modules and starts the fetch loop. */
  start(): Promise<void> {
    if (this.stateValue !== "new" || this.starting) {
      return Promise.reject(new ConfigError(`worker ${this.id} was already started`));
    }
    this.starting = this.boot();
    return this.starting;
  }

  private async boot(): Promise<void> {
    this.stateValue = "running";
    try {
      await this.runtime.loadJobs();
      this.client = this.options.client ?? (await this.runtime.adapterFor(this.options.adapter));
    } catch (error) {
      this.stateValue = "stopped";
      throw error;
    }
    try {
      this.selection = selectQueues(this.options.queues ?? this.runtime.workerSettings.queues, this.client, (name) => this.runtime.queueName(name));
      this.scheduler = schedulerFor({
        runtime: this.runtime,
        client: this.client,
        adapter: this.options.adapter,
        enabled: this.recurring,
        workerId: this.id,
        onError: (error) => this.reportError(error),
      });
    } catch (error) {
      this.stateValue = "stopped";
      throw error;
    }
    warnAtStart(this.runtime, this.id, this.client.name, this.client.capabilities);
    this.batcher = new SettleBatcher(this.client, (error) => this.reportError(error));
    this.executionContext = {
      runtime: this.runtime,
      workerId: this.id,
      adapter: this.client.name,
      // A resumable job stops at its next checkpoint once shutdown begins, rather than at
      // the end of the grace: its progress is saved and it resumes on another worker.
      stopping: () => this.stateValue !== "running",
      onProgress: (payload, fraction, message, reservation) => {
        const update = message === undefined ? { jobId: payload.id, reservation, fraction } : { jobId: payload.id, reservation, fraction, message };
        this.batcher.reportProgress(update);
        this.runtime.events.emit("job:progress", message === undefined ? { payload, fraction } : { payload, fraction, message });
      },
    };
    this.untrack = this.runtime.trackWorker(this);
    this.leases = new LeaseRenewer({
      client: this.client,
      leaseMs: this.leaseMs,
      buffer: this.buffer,
      running: this.running,
      onError: (error) => this.reportError(error),
    });
    this.leases.start();
    if (this.client.capabilities.control) {
      this.heartbeat = new Heartbeat({
        client: this.client,
        workerId: this.id,
        queues: describeQueues(this.selection),
        concurrency: this.concurrency,
        running: () => runningInfo(this.running.values()),
        onPaused: (paused) => this.pausedChanged(paused),
        onAbort: (ids, listedAt) => abortRunning(this.running.values(), ids, listedAt),
        onInterrupt: (ids, listedAt) => interruptRunning(this.running.values(), ids, listedAt),
        onError: (error) => this.reportError(error),
      });
      await this.heartbeat.start();
    }
    if (this.options.keepAlive !== false) this.keepAliveTimer = setInterval(() => {}, 2 ** 30);
    this.runtime.events.emit("worker:start", { workerId: this.id, queues: describeQueues(this.selection), concurrency: this.concurrency });
    this.loop = new FetchLoop({
      client: this.client,
      workerId: this.id,
      concurrency: this.concurrency,
      prefetch: this.prefetch,
      maxPrefetch: () => this.maxPrefetch,
      leaseMs: this.leaseMs,
      pollIntervalMs: this.pollIntervalMs,
      signal: this.fetchController.signal,
      buffer: this.buffer,
      running: this.running,
      isRunning: () => this.stateValue === "running",
      queues: () => reserveQueues(this.selection, this.heartbeat?.paused),
      accept: (reserved) => this.accept(reserved),
      // Called once the worker is stopping, for a reserve that answered after the stop began.
      release: (reserved) => {
        for (const reservation of reserved) this.batcher.settle({ reservation, outcome: "released" });
        this.releasedAtStop += reserved.length;
      },
      markIdle: (seq) => this.markIdle(seq),
      onError: (error) => this.reportError(error),
    });
    this.loopDone = this.loop.run();
    this.scheduler?.start();
  }

  private reportError(error: unknown): void {
    this.runtime.events.emit("worker:error", { workerId: this.id, error });
  }

  /**
   * Takes what a reserve brought: jobs of a queue paused while it was on its way go back,
   * as the buffer's did; the rest join the buffer and fill free slots.
   */
  private accept(reserved: Reservation[]): void {
    if (this.heartbeat) releasePaused(reserved, this.heartbeat.paused, (settlement) => this.batcher.settle(settlement));
    this.idle = false;
    for (const reservation of reserved) this.buffer.push(reservation);
    this.dispatch();
  }

  /**
   * A beat read a new paused set: buffered jobs of paused queues go back (taken, not
   * started), and a reserve waiting for work is cut short so the next leaves them out.
   */
  private pausedChanged(paused: ReadonlySet<string>): void {
    releasePaused(this.buffer, paused, (settlement) => this.batcher.settle(settlement));
    this.runtime.events.emit("worker:paused", { workerId: this.id, queues: [...paused] });
    this.loop?.cutWaitShort();
    this.loop?.wake();
  }

  private markIdle(seq: number): void {
    if (!this.idle) {
      this.idle = true;
      this.runtime.events.emit("worker:idle", { workerId: this.id });
    }
    this.drainWaiters.idleAfter(seq, () => this.batcher.drain());
  }

  /**
   * Resolves when the worker has run out of ready work: a reserve that started after this
   * call found nothing, nothing is running or buffered, and every settlement was written.
   * Jobs scheduled for later do not count.
   */
  drained(): Promise<void> {
    if (this.stateValue === "stopped") return Promise.resolve();
    const drained = this.drainWaiters.add(this.loop?.reserveSeq ?? 0);
    if (this.running.size === 0 && this.buffer.length === 0) {
      this.loop?.cutWaitShort();
      // A loop asleep because every queue is paused looks again and answers.
      this.loop?.wake();
    }
    return drained;
  }

  private dispatch(): void {
    while (this.running.size < this.concurrency && this.buffer.length > 0) this.run(this.buffer.shift()!);
  }

  private run(reservation: Reservation): void {
    // The controller is made when the job first reads `this.signal`, or when it must be aborted.
    const entry: RunningJob = { reservation, controller: undefined, abandoned: false, slot: -1, payload: undefined, startedAt: 0, operator: undefined, job: undefined };
    this.running.add(entry);
    // Only a beating worker tracks what runs (its heartbeat reports it).
    void executeReservation(this.executionContext, reservation, () => (entry.controller ??= new AbortController()).signal, this.heartbeat && entry).then(
      (settlement) => this.finish(entry, settlement),
    );
  }

  private finish(entry: RunningJob, settlement: Settlement): void {
    this.running.delete(entry);
    this.processed++;
    if (!entry.abandoned) {
      this.batcher.settle(settlement);
      if (entry.payload && settlement.outcome !== "released") this.heartbeat?.count(entry.payload.queue, settlement.outcome === "succeeded");
    }
    if (this.stateValue === "running") this.dispatch();
    if (this.running.size === 0 && this.buffer.length === 0 && this.drainWaiters.size > 0) this.loop?.cutWaitShort();
    this.loop?.wake();
  }

  /**
   * Stops gracefully: no more reserves, buffered jobs handed back at once, running jobs
   * given `graceMs` (default `shutdownGrace`) to finish, then aborted and handed back.
   * Resolves when everything was written. Safe to call twice.
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    if (this.stateValue === "new" && !this.starting) {
      this.stateValue = "stopped";
      return Promise.resolve();
    }
    // A stop during start waits for the start to finish (or fail) first.
    this.stopping ??= (this.starting ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => (this.stateValue === "stopped" ? undefined : this.shutdown(options.graceMs ?? this.shutdownGraceMs)));
    return this.stopping;
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.stateValue = "stopping";
    this.fetchController.abort(new ShutdownError());
    const schedulerStopped = this.scheduler?.stop();
    this.loop?.wake();
    for (const reservation of this.buffer.splice(0)) {
      this.batcher.settle({ reservation, outcome: "released" });
      this.releasedAtStop++;
    }
    await this.loopDone;
    await schedulerStopped;
    await this.running.emptyWithin(graceMs);
    for (const job of this.running.abandonAll(new ShutdownError())) {
      this.batcher.settle({ reservation: job.reservation, outcome: "released" });
      this.releasedAtStop++;
    }
    await this.batcher.drain();
    await this.heartbeat?.stop();
    this.leases?.stop();
    clearInterval(this.keepAliveTimer);
    this.stateValue = "stopped";
    this.untrack?.();
    this.drainWaiters.resolveAll();
    this.runtime.events.emit("worker:stop", { workerId: this.id, released: this.releasedAtStop });
  }
}
