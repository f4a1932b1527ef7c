/**
 * A worker's fetch loop: it keeps the local buffer topped up with bulk `reserve` calls.
 *
 * States, looked at afresh on every turn while the worker is running:
 *
 * - `full`: the slots and buffer hold `concurrency + prefetch` jobs, or the buffer still
 *   holds more than half of `prefetch`. It sleeps until woken ({@link FetchLoop.wake}: a
 *   job finished, a pause changed, shutdown).
 * - `paused`: every queue of the worker is paused. Once nothing runs the worker counts as
 *   idle; it sleeps until woken (a beat resumed a queue, or shutdown).
 * - `reserving`: one reserve for as many jobs as there is room for. Jobs came: they go to
 *   the worker (`accept`), and the next reserve returns at once. None came: the worker is
 *   idle if nothing runs, and the next reserve waits for work — up to `pollInterval` on a
 *   blocking backend, or after a `pollInterval` sleep on a polling one. That wait is cut
 *   short ({@link FetchLoop.cutWaitShort}) when someone awaits `drained()` on a worker
 *   that ran empty, or a pause changed; the loop then reserves again at once. A failed
 *   reserve is reported and retried after a backoff (100 ms doubling, at most 5 s).
 *
 * The loop ends when the worker leaves `running` (its signal aborts a waiting reserve);
 * jobs a reserve brings back after that are handed back at once (`release`).
 *
 * @module
 */
// The module binding, not the global: Node defines `globalThis.performance` with a getter
// that ran on every read (~100 instructions per job of a no-op drain, callgrind).
import { performance } from "node:perf_hooks";
import type { AdapterClient } from "../backends/client.js";
import type { Reservation } from "../adapter/contract.js";
import { linkAbort, pause } from "../abort.js";
import type { ReserveQueues } from "./control.js";
import type { RunningJobs } from "./slots.js";

/** Longest stretch the fetch loop keeps the event loop busy before yielding a turn. */
const YIELD_EVERY_MS = 10;

/** What a {@link FetchLoop} reads from and hands to its worker. */
export interface FetchLoopOptions {
  client: AdapterClient;
  workerId: string;
  concurrency: number;
  /** The buffer size to start with. */
  prefetch: number;
  /** The buffer size it may grow to (the worker's `maxPrefetch`). */
  maxPrefetch(): number;
  leaseMs: number;
  pollIntervalMs: number;
  /** Aborted when the worker stops: a waiting reserve or sleep returns. */
  signal: AbortSignal;
  /** The worker's buffer of reserved jobs (read here; the worker fills and drains it). */
  buffer: readonly Reservation[];
  running: RunningJobs;
  /** Whether the worker is still `running`. */
  isRunning(): boolean;
  /** The queues to reserve from now, `undefined` when every one is paused. */
  queues(): ReserveQueues | undefined;
  /** Takes reserved jobs into the buffer and starts what slots allow. */
  accept(reserved: Reservation[]): void;
  /** Hands back jobs reserved after the worker stopped running. */
  release(reserved: Reservation[]): void;
  /** Nothing runs, nothing is buffered, and reserve number `seq` found no work. */
  markIdle(seq: number): void;
  onError(error: unknown): void;
}

/** Refills a worker's buffer (see the module's states). */
export class FetchLoop {
  private reserveSeqValue = 0;
  private wakeUp: (() => void) | undefined;
  private interruptWait: AbortController | undefined;

  constructor(private readonly options: FetchLoopOptions) {}

  /** Number of the latest reserve started (or of the latest turn found paused). */
  get reserveSeq(): number {
    return this.reserveSeqValue;
  }

  /** Wakes the loop where it sleeps (a full buffer, every queue paused); it looks again. */
  wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  /** Cuts a reserve waiting for work (or a poll sleep) short: the loop reserves again at once. */
  cutWaitShort(): void {
    this.interruptWait?.abort();
  }

  /** Runs until the worker leaves `running`. */
  async run(): Promise<void> {
    const { client, running, buffer, signal, concurrency } = this.options;
    // The buffer target adapts: when slots sat idle waiting for a reserve (jobs finish
    // faster than a round trip), it doubles, up to maxPrefetch. Slow jobs never starve the
    // slots, so they keep a small buffer and leave work for other workers. Measured on
    // PostgreSQL at concurrency 10: a fixed buffer of 10 capped the drain at the reserve
    // round trip (9k jobs/s).
    let prefetch = this.options.prefetch;
    const blocking = client.capabilities.blockingReserve;
    let waitForWork = false;
    let failures = 0;
    let sliceStart = performance.now();
    while (this.options.isRunning()) {
      const capacity = concurrency + prefetch;
      // Refill only once the buffer has drained to half: one reserve then fetches many jobs
      // instead of one per finished job (measured on PostgreSQL at concurrency 1: one job per
      // round trip capped the drain at 1.4k jobs/s).
      const room = capacity - running.size - buffer.length;
      if (room <= 0 || buffer.length > Math.floor(prefetch / 2)) {
        await this.sleep();
        continue;
      }
      const queues = this.options.queues();
      if (queues === undefined) {
        // Every queue of this worker is paused: sleep until a beat resumes one (or stop).
        // With nothing running the worker has no ready work: idle, as if a reserve
        // (numbered now) had found nothing, so drained() answers.
        if (running.size === 0 && buffer.length === 0) this.options.markIdle(++this.reserveSeqValue);
        await this.sleep();
        continue;
      }
      const seq = ++this.reserveSeqValue;
      // A waiting reserve (or poll pause) is cut short when the worker runs empty while
      // someone awaits drained(): see cutWaitShort().
      const interrupt: AbortController | undefined = waitForWork ? new AbortController() : undefined;
      this.interruptWait = interrupt;
      const unlink = interrupt ? linkAbort(signal, interrupt) : undefined;
      const waitSignal = interrupt ? interrupt.signal : signal;
      try {
        let reserved: Reservation[] = [];
        try {
          reserved = await client.reserve({
            ...queues,
            max: room,
            leaseMs: this.options.leaseMs,
            waitMs: waitForWork && blocking ? this.options.pollIntervalMs : 0,
            signal: waitSignal,
            workerId: this.options.workerId,
          });
          failures = 0;
        } catch (error) {
          if (!this.options.isRunning()) break;
          if (!interrupt?.signal.aborted) {
            this.options.onError(error);
            await pause(Math.min(5000, 100 * 2 ** failures++), signal);
            continue;
          }
        }
        if (reserved.length > 0) {
          if (!this.options.isRunning()) {
            this.options.release(reserved);
            break;
          }
          const maxPrefetch = this.options.maxPrefetch();
          if (running.size < concurrency && buffer.length === 0 && prefetch < maxPrefetch) {
            prefetch = Math.min(maxPrefetch, prefetch * 2);
          }
          this.options.accept(reserved);
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
        if (running.size === 0 && buffer.length === 0) this.options.markIdle(seq);
        if (waitForWork && !blocking && !interrupt?.signal.aborted) await pause(this.options.pollIntervalMs, waitSignal);
        // Interrupted: reserve again at once, so a reserve that started after drained() was called answers it.
        waitForWork = !interrupt?.signal.aborted;
      } finally {
        unlink?.();
        if (this.interruptWait === interrupt) this.interruptWait = undefined;
      }
    }
  }

  private sleep(): Promise<void> {
    return new Promise<void>((resolve) => (this.wakeUp = resolve));
  }
}
