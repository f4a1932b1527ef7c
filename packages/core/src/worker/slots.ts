/**
 * The jobs running in a worker's slots: an array in which each job knows its own index, so
 * adding and removing one are O(1) without hashing (removal moves the last job into the
 * gap; the order is not kept and nothing needs it). It was a Map by provider id: its set,
 * delete and the rehashes as it grew and shrank with every batch were ~700 instructions
 * per job of a no-op drain (callgrind, bench/core/instructions.ts).
 *
 * @module
 */
import type { JobPayload, Reservation } from "../adapter/contract.js";

/** @internal A job running in one of the worker's slots. */
export interface RunningJob {
  reservation: Reservation;
  /** Aborts this job's `signal` (lease lost, shutdown grace over). */
  controller: AbortController | undefined;
  /** Handed back (shutdown) or lost (lease): its outcome must not be written. */
  abandoned: boolean;
  /** Its index in {@link RunningJobs} while it runs; -1 after. */
  slot: number;
  /** Its payload once read (only tracked when the worker beats: `heartbeat.ts`). */
  payload: JobPayload | undefined;
  /** When it started, as `performance.now()` (0 when not tracked). */
  startedAt: number;
  /** What an operator asked of it through the heartbeat (`control.ts`); an abort replaces an interrupt. */
  operator?: "interrupt" | "abort" | undefined;
  /** The job instance once built (tracked jobs only): an interrupt tells a resumable one to stop at its next checkpoint. */
  job?: { continuationRun: { interruptRequested: boolean } | undefined } | undefined;
}

/** @internal The worker's running jobs. */
export class RunningJobs {
  private readonly jobs: RunningJob[] = [];
  private onEmpty: (() => void) | undefined;

  /** Jobs running. */
  get size(): number {
    return this.jobs.length;
  }

  /** Adds a job that starts running. */
  add(job: RunningJob): void {
    job.slot = this.jobs.length;
    this.jobs.push(job);
  }

  /** Removes a job that has finished; one already removed is ignored. */
  delete(job: RunningJob): void {
    const slot = job.slot;
    if (slot < 0) return;
    const last = this.jobs.pop()!;
    if (last !== job) {
      this.jobs[slot] = last;
      last.slot = slot;
    }
    job.slot = -1;
    if (this.jobs.length === 0) this.onEmpty?.();
  }

  /** Resolves once no job runs, or after `ms` (a shutdown's grace period). */
  emptyWithin(ms: number): Promise<void> {
    if (this.jobs.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.onEmpty = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.onEmpty = done;
    });
  }

  /**
   * Abandons every running job not abandoned yet (its outcome will not be written), aborting
   * its signal with `reason`; returns them, to be handed back.
   */
  abandonAll(reason: Error): RunningJob[] {
    const abandoned = this.jobs.filter((job) => !job.abandoned);
    for (const job of abandoned) {
      job.abandoned = true;
      (job.controller ??= new AbortController()).abort(reason);
    }
    return abandoned;
  }

  /** A copy of the running jobs, safe to iterate while jobs finish. */
  values(): RunningJob[] {
    return this.jobs.slice();
  }
}
