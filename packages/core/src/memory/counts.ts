/**
 * Queue counts of core's in-memory store (`listQueues`): ready jobs and those a flow limit
 * parked or deferred count as queued; scheduled ones as retrying when they ran before.
 *
 * @module
 */
import type { QueueInfo } from "../adapter/contract.js";

/** The store's jobs, where they are. */
export interface StoredJobs {
  ready: ReadonlyMap<string, { readonly size: number }>;
  scheduled: Iterable<{ readonly queue: string; readonly executions: number }>;
  /** Parked and deferred by flow control. */
  waiting: Iterable<{ readonly queue: string }>;
  leased: Iterable<{ readonly queue: string }>;
  dead: Iterable<{ readonly queue: string }>;
}

/** Counts per queue, by name. */
export function countQueues(jobs: StoredJobs): QueueInfo[] {
  const infos = new Map<string, QueueInfo>();
  const info = (name: string) => {
    let entry = infos.get(name);
    if (!entry) infos.set(name, (entry = { name, queued: 0, scheduled: 0, running: 0, retrying: 0, dead: 0 }));
    return entry;
  };
  for (const [name, queue] of jobs.ready) if (queue.size > 0) info(name).queued += queue.size;
  for (const entry of jobs.scheduled) {
    if (entry.executions > 0) info(entry.queue).retrying++;
    else info(entry.queue).scheduled++;
  }
  for (const entry of jobs.waiting) info(entry.queue).queued++;
  for (const entry of jobs.leased) info(entry.queue).running++;
  for (const job of jobs.dead) info(job.queue).dead++;
  return [...infos.values()].sort((a, b) => a.name.localeCompare(b.name));
}
