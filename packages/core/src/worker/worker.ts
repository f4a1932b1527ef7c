/**
 * The worker loop, the same for every backend.
 *
 * A worker has `concurrency` slots and a local buffer of up to `prefetch` reserved jobs.
 * One fetch loop keeps the buffer topped up with bulk `reserve` calls (queues ordered by
 * weight on each call); finished jobs free slots that are refilled from the buffer at
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
 *   to finish; those still running then have their `signal` aborted and are handed back
 *   too. Pending batches are flushed, then lease renewal stops.
 * - `stopping` → `stopped` (`worker:stop`). A second signal is the CLI's business: it
 *   exits the process at once.
 *
 * @module
 */
// The module binding, not the global: Node defines `globalThis.performance` with a getter
// that ran on every read (~100 instructions per job of a no-op drain, callgrind).
import { performance } from "node:perf_hooks";
import type { AdapterClient } from "../backends/client.js";
import { baseCapabilities, type Reservation, type Settlement } from "../adapter/contract.js";
import { ConfigError, ShutdownError } from "../errors.js";
import { linkAbort, pause } from "../abort.js";
import { executeReservation, type ExecutionContext } from "../job/execution.js";
import { schedulerFor, type RecurringScheduler } from "../recurring/for-worker.js";
import { currentRuntime, type Runtime } from "../runtime.js";
import { SettleBatcher } from "./batcher.js";
import { DrainWaiters } from "./drain-waiters.js";
import { abortRunning, releasePaused, reserveQueues, runningInfo } from "./control.js";
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
  private loopDone: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private leases: LeaseRenewer | undefined;
  private reserveSeq = 0;
  private idle = false;
  private readonly drainWaiters = new DrainWaiters();
  private stopping: Promise<void> | undefined;
  private untrack: (() => void) | undefined;
  private executionContext!: ExecutionContext;
  private starting: Promise<void> | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private interruptWait: AbortController | undefined;
  private heartbeat: Heartbeat | undefined;
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
        onAbort: (ids) => abortRunning(this.running.values(), ids),
        onError: (error) => this.reportError(error),
      });
      await this.heartbeat.start();
    }
    if (this.options.keepAlive !== false) this.keepAliveTimer = setInterval(() => {}, 2 ** 30);
    this.runtime.events.emit("worker:start", { workerId: this.id, queues: describeQueues(this.selection), concurrency: this.concurrency });
    this.loopDone = this.fetchLoop();
    this.scheduler?.start();
  }

  /** Wakes the fetch loop where it sleeps (a full buffer, every queue paused); it looks again. */
  private wakeLoop(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private reportError(error: unknown): void {
    this.runtime.events.emit("worker:error", { workerId: this.id, error });
  }

  private async fetchLoop(): Promise<void> {
    // The buffer target adapts: when slots sat idle waiting for a reserve (jobs finish
    // faster than a round trip), it doubles, up to maxPrefetch. Slow jobs never starve the
    // slots, so they keep a small buffer and leave work for other workers. Measured on
    // PostgreSQL at concurrency 10: a fixed buffer of 10 capped the drain at the reserve
    // round trip (9k jobs/s).
    let prefetch = this.prefetch;
    const blocking = this.client.capabilities.blockingReserve;
    const signal = this.fetchController.signal;
    let waitForWork = false;
    let failures = 0;
    let sliceStart = performance.now();
    while (this.stateValue === "running") {
      const capacity = this.concurrency + prefetch;
      // Refill only once the buffer has drained to half: one reserve then fetches many jobs
      // instead of one per finished job (measured on PostgreSQL at concurrency 1: one job per
      // round trip capped the drain at 1.4k jobs/s).
      const room = capacity - this.running.size - this.buffer.length;
      if (room <= 0 || this.buffer.length > Math.floor(prefetch / 2)) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      const queues = reserveQueues(this.selection, this.heartbeat?.paused);
      if (queues === undefined) {
        // Every queue of this worker is paused: sleep until a beat resumes one (or stop).
        this.markIdleWhilePaused();
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      const seq = ++this.reserveSeq;
      // A waiting reserve (or poll pause) is cut short when the worker runs empty while
      // someone awaits drained(): see finish() and drained().
      const interrupt: AbortController | undefined = waitForWork ? new AbortController() : undefined;
      this.interruptWait = interrupt;
      const unlink = interrupt ? linkAbort(signal, interrupt) : undefined;
      const waitSignal = interrupt ? interrupt.signal : signal;
      try {
        let reserved: Reservation[] = [];
        try {
          reserved = await this.client.reserve({
            ...queues,
            max: room,
            leaseMs: this.leaseMs,
            waitMs: waitForWork && blocking ? this.pollIntervalMs : 0,
            signal: waitSignal,
            workerId: this.id,
          });
          failures = 0;
        } catch (error) {
          if (this.stateValue !== "running") break;
          if (!interrupt?.signal.aborted) {
            this.reportError(error);
            await pause(Math.min(5000, 100 * 2 ** failures++), signal);
            continue;
          }
        }
        if (reserved.length > 0) {
          if (this.stateValue !== "running") {
            for (const reservation of reserved) this.batcher.settle({ reservation, outcome: "released" });
            break;
          }
          // A pause a beat read while this reserve was on its way: what it took from a paused
          // queue goes back, as the buffer's did.
          if (this.heartbeat) releasePaused(reserved, this.heartbeat.paused, (settlement) => this.batcher.settle(settlement));
          this.idle = false;
          if (this.running.size < this.concurrency && this.buffer.length === 0 && prefetch < this.maxPrefetch) {
            prefetch = Math.min(this.maxPrefetch, prefetch * 2);
          }
          for (const reservation of reserved) this.buffer.push(reservation);
          this.dispatch();
          waitForWork = false;
          // A backend that answers without I/O (async) would otherwise run every ready job in
          // one macrotask: no timers (lease renewal), no I/O, no settlement flush until the
          // queue is empty (measured: a 1 s stall for 100k jobs). Give the event loop a turn
          // every YIELD_EVERY_MS of work.
          if (performance.now() - sliceStart >= YIELD_EVERY_MS) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            sliceStart = performance.now();
          }
          continue;
        }
        if (this.running.size === 0 && this.buffer.length === 0) this.markIdle(seq);
        if (waitForWork && !blocking && !interrupt?.signal.aborted) await pause(this.pollIntervalMs, waitSignal);
        // Interrupted: reserve again at once, so a reserve that started after drained() was called answers it.
        waitForWork = !interrupt?.signal.aborted;
      } finally {
        unlink?.();
        if (this.interruptWait === interrupt) this.interruptWait = undefined;
      }
    }
  }

  /**
   * A worker whose queues are all paused has no ready work: once nothing runs it is idle, as
   * if a reserve (numbered now) had found nothing, so drained() answers.
   */
  private markIdleWhilePaused(): void {
    if (this.running.size === 0 && this.buffer.length === 0) this.markIdle(++this.reserveSeq);
  }

  /**
   * A beat read a new paused set: buffered jobs of paused queues go back (taken, not
   * started), and a reserve waiting for work is cut short so the next leaves them out.
   */
  private pausedChanged(paused: ReadonlySet<string>): void {
    releasePaused(this.buffer, paused, (settlement) => this.batcher.settle(settlement));
    this.runtime.events.emit("worker:paused", { workerId: this.id, queues: [...paused] });
    this.interruptWait?.abort();
    this.wakeLoop();
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
    const drained = this.drainWaiters.add(this.reserveSeq);
    if (this.running.size === 0 && this.buffer.length === 0) {
      this.interruptWait?.abort();
      // A loop asleep because every queue is paused looks again and answers.
      this.wakeLoop();
    }
    return drained;
  }

  private dispatch(): void {
    while (this.running.size < this.concurrency && this.buffer.length > 0) this.run(this.buffer.shift()!);
  }

  private run(reservation: Reservation): void {
    // The controller is made when the job first reads `this.signal`, or when it must be aborted.
    const entry: RunningJob = { reservation, controller: undefined, abandoned: false, slot: -1, payload: undefined, startedAt: 0 };
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
    if (this.running.size === 0 && this.buffer.length === 0 && this.drainWaiters.size > 0) this.interruptWait?.abort();
    this.wakeLoop();
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
    this.wakeLoop();
    let released = 0;
    for (const reservation of this.buffer.splice(0)) {
      this.batcher.settle({ reservation, outcome: "released" });
      released++;
    }
    await this.loopDone;
    await schedulerStopped;
    await this.running.emptyWithin(graceMs);
    for (const job of this.running.abandonAll(new ShutdownError())) {
      this.batcher.settle({ reservation: job.reservation, outcome: "released" });
      released++;
    }
    await this.batcher.drain();
    await this.heartbeat?.stop();
    this.leases?.stop();
    clearInterval(this.keepAliveTimer);
    this.stateValue = "stopped";
    this.untrack?.();
    this.drainWaiters.resolveAll();
    this.runtime.events.emit("worker:stop", { workerId: this.id, released });
  }
}

/** Longest stretch the fetch loop keeps the event loop busy before yielding a turn. */
const YIELD_EVERY_MS = 10;
