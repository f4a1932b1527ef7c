/**
 * The worker loop, the same for every backend.
 *
 * A worker has `concurrency` slots and a local buffer of up to `prefetch` reserved jobs.
 * One fetch loop keeps the buffer topped up with bulk `reserve` calls (queues ordered by
 * weight on each call); finished jobs free slots that are refilled from the buffer at
 * once, without waiting for a round trip. Settlements and progress go out in batches
 * (`batcher.ts`). Every held job — running or buffered — has its lease renewed every third
 * of the lease; a job whose lease was lost is aborted and its outcome is not written.
 *
 * States:
 *
 * - `new` → `start()` → `running`: the fetch loop runs. When a reserve finds nothing and
 *   nothing is running or buffered, the worker is idle (`worker:idle`); the next reserve
 *   waits for work (blocking backends) or the loop sleeps `pollInterval` (polling ones).
 * - `running` → `stop()` (first SIGTERM/SIGINT) → `stopping`: the fetch loop stops, the
 *   buffered jobs are handed back (`released`) at once, running jobs get `shutdownGrace`
 *   to finish; those still running then have their `signal` aborted and are handed back
 *   too. Pending batches are flushed.
 * - `stopping` → `stopped` (`worker:stop`). A second signal is the CLI's business: it
 *   exits the process at once.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";

import type { AdapterClient } from "../backends/client.js";
import { baseCapabilities, type Reservation, type Settlement } from "../adapter/contract.js";
import { toMs, type Duration } from "../duration.js";
import { ConfigError, ErrandError } from "../errors.js";
import { linkAbort } from "../abort.js";
import { executeReservation, type ExecutionContext } from "../job/execution.js";
import { currentRuntime, setEmbeddedStarter, type Runtime } from "../runtime.js";
import { SettleBatcher } from "./batcher.js";
import { describeQueues, mapQueueNames, parseQueues, queueOrder, type QueueSelection } from "./queues.js";

/** Options of {@link Worker}; each defaults to the config's `worker` settings, then to the value given. */
export interface WorkerOptions {
  /** Runtime to use. Default: the configured one. */
  runtime?: Runtime;
  /** Named adapter to work (`adapters.<name>` in config). Default: the default adapter. */
  adapter?: string;
  /** Weighted queues: `"critical,2 default,1"`, `["critical,2", "default"]`, or `"*"`. Default `"*"` (or `"default"` when the backend cannot list queues). */
  queues?: string | readonly string[];
  /** Jobs run at once. Default 10. */
  concurrency?: number;
  /** Jobs reserved ahead of free slots, refilled when half gone. Default: `concurrency`, at least 10. */
  prefetch?: number;
  /** Lease length. Default `"5m"`. */
  lease?: Duration;
  /** Idle wait per reserve (blocking backends) or between polls. Default `"1s"`. */
  pollInterval?: Duration;
  /** Time running jobs get to finish at shutdown. Default `"25s"`. */
  shutdownGrace?: Duration;
  /** Identifies this worker in events and backends. Default `host:pid:random`. */
  workerId?: string;
  /**
   * Keep the process alive while the worker runs. Default true (a worker process should
   * not exit when its queues are empty); the async adapter's in-app pool passes false so a
   * script exits when its own work is done.
   */
  keepAlive?: boolean;
  /** @internal an adapter client to work directly (the embedded pool). */
  client?: AdapterClient;
}

/** The worker's lifecycle state. */
export type WorkerState = "new" | "running" | "stopping" | "stopped";

/** Aborts a running job's signal when the worker shuts down. */
export class ShutdownError extends ErrandError {
  constructor() {
    super("ERR_SHUTDOWN", "the worker is shutting down");
  }
}

/** Aborts a running job's signal when its lease was lost (another worker may run it). */
export class LeaseLostError extends ErrandError {
  constructor(providerJobId: string) {
    super("ERR_LEASE_LOST", `the lease of job ${providerJobId} was lost`);
  }
}

interface RunningJob {
  reservation: Reservation;
  /** Aborts this job's `signal` (lease lost, shutdown grace over). */
  controller: AbortController | undefined;
  /** Handed back (shutdown) or lost (lease): its outcome must not be written. */
  abandoned: boolean;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`worker ${name} must be an integer >= 1, got ${value}`);
  return value;
}

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
  private readonly options: WorkerOptions;
  private selection!: QueueSelection;
  private client!: AdapterClient;
  private batcher!: SettleBatcher;
  private stateValue: WorkerState = "new";
  private readonly buffer: Reservation[] = [];
  private readonly running = new Map<string, RunningJob>();
  private readonly fetchController = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private reserveSeq = 0;
  private idle = false;
  private drainWaiters: { afterSeq: number; resolve: () => void }[] = [];
  private stopping: Promise<void> | undefined;
  private untrack: (() => void) | undefined;
  private executionContext!: ExecutionContext;
  private onRunningEmpty: (() => void) | undefined;
  private starting: Promise<void> | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private interruptWait: AbortController | undefined;
  /** Jobs finished by this worker (any outcome). */
  processed = 0;

  constructor(options: WorkerOptions = {}) {
    this.options = options;
    this.runtime = options.runtime ?? currentRuntime();
    const settings = this.runtime.workerSettings;
    this.concurrency = positiveInteger(options.concurrency ?? settings.concurrency ?? 10, "concurrency");
    const fixedPrefetch = options.prefetch ?? settings.prefetch;
    this.prefetch = Math.max(0, fixedPrefetch ?? Math.max(this.concurrency, DEFAULT_MIN_PREFETCH));
    this.prefetchFixed = fixedPrefetch !== undefined;
    this.leaseMs = toMs(options.lease ?? settings.lease ?? "5m", "worker lease");
    if (this.leaseMs < 1000) throw new ConfigError(`worker lease must be at least 1s, got ${this.leaseMs} ms`);
    this.pollIntervalMs = toMs(options.pollInterval ?? settings.pollInterval ?? "1s", "worker pollInterval");
    this.shutdownGraceMs = toMs(options.shutdownGrace ?? settings.shutdownGrace ?? "25s", "worker shutdownGrace");
    this.id = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
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
    const fallback = this.client.capabilities.wildcardQueues ? "*" : "default";
    this.selection = mapQueueNames(parseQueues(this.options.queues ?? this.runtime.workerSettings.queues, fallback), (name) =>
      this.runtime.queueName(name),
    );
    if (this.selection === "*" && !this.client.capabilities.wildcardQueues) {
      this.stateValue = "stopped";
      throw new ConfigError(`the ${this.client.name} adapter cannot work every queue ("*"); name the queues with --queues`);
    }
    this.batcher = new SettleBatcher(this.client, (error) => this.reportError(error));
    this.executionContext = {
      runtime: this.runtime,
      workerId: this.id,
      onProgress: (payload, fraction, message, reservation) => {
        const update = message === undefined ? { jobId: payload.id, reservation, fraction } : { jobId: payload.id, reservation, fraction, message };
        this.batcher.reportProgress(update);
        this.runtime.events.emit("job:progress", message === undefined ? { payload, fraction } : { payload, fraction, message });
      },
    };
    this.untrack = this.runtime.trackWorker(this);
    this.leaseTimer = setInterval(() => void this.renewLeases(), Math.max(500, Math.floor(this.leaseMs / 3)));
    this.leaseTimer.unref();
    if (this.options.keepAlive !== false) this.keepAliveTimer = setInterval(() => {}, 2 ** 30);
    this.runtime.events.emit("worker:start", { workerId: this.id, queues: describeQueues(this.selection), concurrency: this.concurrency });
    this.loopDone = this.fetchLoop();
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
            queues: queueOrder(this.selection),
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

  private markIdle(seq: number): void {
    if (!this.idle) {
      this.idle = true;
      this.runtime.events.emit("worker:idle", { workerId: this.id });
    }
    const ready = this.drainWaiters.filter((waiter) => seq > waiter.afterSeq);
    if (ready.length === 0) return;
    this.drainWaiters = this.drainWaiters.filter((waiter) => seq <= waiter.afterSeq);
    void this.batcher.drain().then(() => {
      for (const waiter of ready) waiter.resolve();
    });
  }

  /**
   * Resolves when the worker has run out of ready work: a reserve that started after this
   * call found nothing, nothing is running or buffered, and every settlement was written.
   * Jobs scheduled for later do not count.
   */
  drained(): Promise<void> {
    if (this.stateValue === "stopped") return Promise.resolve();
    return new Promise((resolve) => {
      this.drainWaiters.push({ afterSeq: this.reserveSeq, resolve });
      if (this.running.size === 0 && this.buffer.length === 0) this.interruptWait?.abort();
    });
  }

  private dispatch(): void {
    while (this.running.size < this.concurrency && this.buffer.length > 0) this.run(this.buffer.shift()!);
  }

  private run(reservation: Reservation): void {
    // The controller is made when the job first reads `this.signal`, or when it must be aborted.
    const entry: RunningJob = { reservation, controller: undefined, abandoned: false };
    this.running.set(reservation.providerJobId, entry);
    void executeReservation(this.executionContext, reservation, () => (entry.controller ??= new AbortController()).signal).then((settlement) =>
      this.finish(entry, settlement),
    );
  }

  private finish(entry: RunningJob, settlement: Settlement): void {
    this.running.delete(entry.reservation.providerJobId);
    this.processed++;
    if (!entry.abandoned) this.batcher.settle(settlement);
    if (this.stateValue === "running") this.dispatch();
    else if (this.running.size === 0) this.onRunningEmpty?.();
    if (this.running.size === 0 && this.buffer.length === 0 && this.drainWaiters.length > 0) this.interruptWait?.abort();
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async renewLeases(): Promise<void> {
    if (this.stateValue !== "running" && this.stateValue !== "stopping") return;
    const held = [...this.buffer, ...[...this.running.values()].filter((job) => !job.abandoned).map((job) => job.reservation)];
    if (held.length === 0) return;
    try {
      const lost = new Set(await this.client.extendLease(held, this.leaseMs));
      if (lost.size === 0) return;
      for (let index = this.buffer.length - 1; index >= 0; index--) {
        if (lost.has(this.buffer[index]!.providerJobId)) this.buffer.splice(index, 1);
      }
      for (const [id, job] of this.running) {
        if (!lost.has(id)) continue;
        job.abandoned = true;
        const error = new LeaseLostError(id);
        (job.controller ??= new AbortController()).abort(error);
        this.reportError(error);
      }
    } catch (error) {
      this.reportError(error);
    }
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
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    let released = 0;
    for (const reservation of this.buffer.splice(0)) {
      this.batcher.settle({ reservation, outcome: "released" });
      released++;
    }
    await this.loopDone;
    if (this.running.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.onRunningEmpty = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.onRunningEmpty = undefined;
      for (const job of this.running.values()) {
        if (job.abandoned) continue;
        job.abandoned = true;
        (job.controller ??= new AbortController()).abort(new ShutdownError());
        this.batcher.settle({ reservation: job.reservation, outcome: "released" });
        released++;
      }
    }
    await this.batcher.drain();
    clearInterval(this.leaseTimer);
    clearInterval(this.keepAliveTimer);
    this.stateValue = "stopped";
    this.untrack?.();
    for (const waiter of this.drainWaiters.splice(0)) waiter.resolve();
    this.runtime.events.emit("worker:stop", { workerId: this.id, released });
  }
}

/** Smallest default prefetch: a reserve is a round trip on networked backends, so fetch several jobs at once. */
const DEFAULT_MIN_PREFETCH = 10;

/** Longest stretch the fetch loop keeps the event loop busy before yielding a turn. */
const YIELD_EVERY_MS = 10;

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

setEmbeddedStarter(async (runtime, client) => {
  const worker = new Worker({
    runtime,
    client,
    queues: runtime.workerSettings.queues ?? "*",
    workerId: `embedded:${process.pid}`,
    keepAlive: false,
  });
  await worker.start();
  return worker;
});
