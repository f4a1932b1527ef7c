/**
 * The memory store's dead set: dead jobs oldest first, at most `max` of them (the oldest
 * dropped), so a job that keeps dying cannot grow memory without bound.
 *
 * @module
 */
import type { DeadJob, DeadSelection } from "../adapter/contract.js";

/** Dead jobs in the order they died. */
export class DeadSet {
  private readonly jobs: DeadJob[] = [];

  constructor(private readonly max: number) {}

  /** Adds a job that just died, dropping the oldest past `max`. */
  add(job: DeadJob): void {
    this.jobs.push(job);
    if (this.jobs.length > this.max) this.jobs.splice(0, this.jobs.length - this.max);
  }

  /** Every dead job, oldest first. */
  values(): readonly DeadJob[] {
    return this.jobs;
  }

  /** Dead jobs of `queue` (or all), newest first, `offset` skipped, at most `limit`. */
  list(queue: string | undefined, limit: number, offset: number): DeadJob[] {
    const result: DeadJob[] = [];
    let skipped = 0;
    for (let index = this.jobs.length - 1; index >= 0 && result.length < limit; index--) {
      const job = this.jobs[index]!;
      if (queue !== undefined && job.queue !== queue) continue;
      if (skipped++ < offset) continue;
      result.push(job);
    }
    return result;
  }

  /** The jobs a selection names (by Errand or provider id, or by queue), oldest first. */
  select(select: DeadSelection): DeadJob[] {
    if ("ids" in select) {
      const ids = new Set(select.ids);
      return this.jobs.filter((job) => ids.has(job.id) || ids.has(job.providerJobId));
    }
    return this.jobs.filter((job) => select.queue === undefined || job.queue === select.queue);
  }

  /** Takes these jobs out; the others keep their order. */
  remove(gone: ReadonlySet<DeadJob>): void {
    if (gone.size === 0) return;
    let length = 0;
    for (const job of this.jobs) if (!gone.has(job)) this.jobs[length++] = job;
    this.jobs.length = length;
  }

  /** Forgets every dead job. */
  clear(): void {
    this.jobs.length = 0;
  }
}
