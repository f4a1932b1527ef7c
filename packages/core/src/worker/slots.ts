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
}

/** @internal The worker's running jobs. */
export class RunningJobs {
  private readonly jobs: RunningJob[] = [];

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
  }

  /** A copy of the running jobs, safe to iterate while jobs finish. */
  values(): RunningJob[] {
    return this.jobs.slice();
  }
}
