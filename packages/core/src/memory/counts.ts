/**
 * Queue counts of core's in-memory store (`listQueues`). Every job the store holds (ready,
 * scheduled, parked or deferred by flow control, leased) is counted under the state its
 * status shows ({@link visibleState}), so the counts agree with `getStatus` and with
 * `listJobs`: a scheduled job whose time has come is queued, a retried one is retrying until
 * a worker takes it, even once due. O(jobs held): a listing, never on the drain path.
 *
 * @module
 */
import type { QueueInfo, StatusRecord } from "../adapter/contract.js";
import { visibleState } from "./status.js";

/** A held job as counted: its queue, its status record and its run time. */
export interface CountedJob {
  readonly queue: string;
  /** Its status record, or its id until it has one (then it counts as queued). */
  readonly status: StatusRecord | string;
  readonly runAtMs: number;
}

/** The store's jobs, where they are. */
export interface StoredJobs {
  /** Every job held but the dead: ready, scheduled, parked, deferred, leased. */
  held: Iterable<CountedJob>;
  dead: Iterable<{ readonly queue: string }>;
  /** Queues listed even when they hold nothing (paused ones, ones with recent throughput). */
  known?: Iterable<string>;
  /**
   * With `capabilities.listJobs`: the finished statuses kept, for `succeeded` and `failed`;
   * and `latencyMs` is filled. Absent: the base counts only.
   */
  finished?: Iterable<StatusRecord>;
}

/** Counts per queue, by name, at `now`. */
export function countQueues(jobs: StoredJobs, now: number): QueueInfo[] {
  const details = jobs.finished !== undefined;
  const infos = new Map<string, QueueInfo>();
  const info = (name: string) => {
    let entry = infos.get(name);
    if (!entry) {
      entry = { name, queued: 0, scheduled: 0, running: 0, retrying: 0, dead: 0 };
      if (details) Object.assign(entry, { succeeded: 0, failed: 0, latencyMs: 0 });
      infos.set(name, entry);
    }
    return entry;
  };
  for (const job of jobs.held) {
    const counts = info(job.queue);
    const state = typeof job.status === "string" ? "queued" : visibleState(job.status, now);
    switch (state) {
      case "queued":
        counts.queued++;
        // Since its runAt: a parked or deferred job waits from then too.
        if (details) counts.latencyMs = Math.max(counts.latencyMs!, now - job.runAtMs);
        break;
      case "scheduled":
      case "running":
      case "retrying":
        counts[state]++;
        break;
      default:
        break; // a held job's status is never finished
    }
  }
  for (const job of jobs.dead) info(job.queue).dead++;
  for (const name of jobs.known ?? []) info(name);
  for (const record of jobs.finished ?? []) {
    if (record.state === "succeeded") info(record.queue).succeeded!++;
    else if (record.state === "failed") info(record.queue).failed!++;
  }
  return [...infos.values()].sort((a, b) => a.name.localeCompare(b.name));
}
