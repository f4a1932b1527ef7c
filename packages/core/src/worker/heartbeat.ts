/**
 * A worker's heartbeat: what carries an operator's pauses, aborts and interrupts to every worker, and
 * each worker's doings to the dashboard (`adapter/control.ts`). Only for backends with
 * `capabilities.control`.
 *
 * Every beat is one adapter call (`heartbeat`): it stores the worker's record (host, pid,
 * queues, the jobs it runs) and the runs it finished since the previous beat, per queue
 * (the backend adds them to per-minute throughput counters: no backend counts on its settle
 * path), and reads back every paused queue and the aborts and interrupts asked for the jobs it runs.
 *
 * States:
 *
 * - `new` → `start()`: the first beat is awaited, so the worker's first reserve already
 *   leaves paused queues out; a failed first beat is reported and the worker starts with
 *   none paused. → `beating`: a beat every {@link HEARTBEAT_INTERVAL_MS}, one at a time (a
 *   slow beat delays the next, never overlaps it). A failed beat is reported
 *   (`worker:error`); its counts go with the next one, and the paused set stays as last read.
 * - `beating` → `stop()` → `stopped`: the timer stops, the beat in flight is awaited, and a
 *   last beat with `stopping: true` carries the remaining counts and removes the record.
 *
 * @module
 */
import { hostname } from "node:os";
import { performance } from "node:perf_hooks";

import type { FinishedCount, RunningJobInfo } from "../adapter/contract.js";
import type { AdapterClient } from "../backends/client.js";

/**
 * Time between beats. Pauses must reach every worker within a second (issue 15): a beat
 * every 500 ms plus its round trip leaves the rest of the second to the reserve in flight.
 * It costs each worker two small writes a second, whatever its job rate.
 */
export const HEARTBEAT_INTERVAL_MS = 500;

/** A worker with no beat for this long is gone: 20 missed beats, so a GC pause or a slow backend does not flap it. */
export const WORKER_TTL_MS = 10_000;

/** What the heartbeat needs from its worker. */
export interface HeartbeatOptions {
  client: AdapterClient;
  workerId: string;
  /** The worker's queues as configured, for display. */
  queues: string;
  concurrency: number;
  /** The jobs the worker runs now. */
  running(): RunningJobInfo[];
  /** The paused set changed (read by a beat). */
  onPaused(paused: ReadonlySet<string>): void;
  /**
   * An operator asked to abort these running jobs. `listedAt` is when the beat listed what
   * runs (`performance.now()`): a run of the same job started after it is not the one asked about.
   */
  onAbort(ids: readonly string[], listedAt: number): void;
  /** An operator asked to interrupt these running jobs (hand them back, or resume them from their progress); `listedAt` as for `onAbort`. */
  onInterrupt(ids: readonly string[], listedAt: number): void;
  onError(error: unknown): void;
}

/** Beats for one worker. */
export class Heartbeat {
  private pausedSet: ReadonlySet<string> = new Set();
  private readonly counts = new Map<string, FinishedCount>();
  private readonly startedAt = new Date();
  private readonly host = hostname();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: HeartbeatOptions) {}

  /** The queues paused everywhere, as the last beat read them. */
  get paused(): ReadonlySet<string> {
    return this.pausedSet;
  }

  /** Counts a finished run of a job of `queue`. */
  count(queue: string, succeeded: boolean): void {
    let count = this.counts.get(queue);
    if (!count) this.counts.set(queue, (count = { queue, succeeded: 0, failed: 0 }));
    if (succeeded) count.succeeded++;
    else count.failed++;
  }

  /** Beats once (awaited), then every {@link HEARTBEAT_INTERVAL_MS}. */
  async start(): Promise<void> {
    await this.beat(false);
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.inFlight = this.beat(false).finally(() => {
        this.inFlight = undefined;
        this.schedule();
      });
    }, HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops beating; a last beat carries the remaining counts and removes the worker's record. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
    await this.beat(true);
  }

  private async beat(stopping: boolean): Promise<void> {
    const { client, workerId } = this.options;
    const finished = [...this.counts.values()];
    this.counts.clear();
    const listedAt = performance.now();
    try {
      const result = await client.heartbeat({
        worker: {
          id: workerId,
          host: this.host,
          pid: process.pid,
          adapter: client.name,
          queues: this.options.queues,
          concurrency: this.options.concurrency,
          startedAt: this.startedAt,
          running: stopping ? [] : this.options.running(),
        },
        at: new Date(),
        ttlMs: WORKER_TTL_MS,
        finished,
        ...(stopping ? { stopping: true } : {}),
      });
      if (stopping) return;
      if (!sameSet(this.pausedSet, result.paused)) {
        this.pausedSet = new Set(result.paused);
        this.options.onPaused(this.pausedSet);
      }
      if (result.abort.length > 0) this.options.onAbort(result.abort, listedAt);
      if (result.interrupt.length > 0) this.options.onInterrupt(result.interrupt, listedAt);
    } catch (error) {
      // Kept for the next beat: a backend that was briefly away loses no throughput.
      for (const count of finished) {
        const kept = this.counts.get(count.queue);
        if (kept) {
          kept.succeeded += count.succeeded;
          kept.failed += count.failed;
        } else this.counts.set(count.queue, count);
      }
      this.options.onError(error);
    }
  }
}

function sameSet(set: ReadonlySet<string>, list: readonly string[]): boolean {
  if (set.size !== new Set(list).size) return false;
  for (const name of list) if (!set.has(name)) return false;
  return true;
}
