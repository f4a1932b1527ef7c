/**
 * Runs finished per queue and per minute, as workers' beats report them
 * (`HeartbeatOptions.finished`), kept 24 hours. The memory store's counterpart of a
 * backend's per-minute counters: the workers count, the store only adds up.
 *
 * Per queue, a map from the UTC minute (ms since the epoch / 60,000) to its two counts.
 * Minutes older than {@link KEPT_MINUTES} are dropped the first time a beat or a read comes
 * in a new minute, so the work is one pass per minute, not per beat; a queue whose minutes
 * are all dropped is forgotten.
 *
 * @module
 */
import type { FinishedCount, QueueThroughput } from "../adapter/contract.js";

/** Minutes kept: 24 hours, the most `throughputMinutes` asks for. */
export const KEPT_MINUTES = 1440;

const MINUTE_MS = 60_000;

/** The UTC minute of a time in ms. */
export function minuteOf(ms: number): number {
  return Math.floor(ms / MINUTE_MS);
}

/** Per-minute finished counts of every queue. */
export class Throughput {
  private readonly queues = new Map<string, Map<number, { succeeded: number; failed: number }>>();
  /** The minute of the last prune: pruning again waits for the next minute. */
  private prunedMinute = -Infinity;

  /** Forgets every count. */
  clear(): void {
    this.queues.clear();
  }

  /** Adds one beat's counts to the minute of `atMs`. */
  add(atMs: number, finished: readonly FinishedCount[], now: number): void {
    this.prune(now);
    const minute = minuteOf(atMs);
    if (minute <= minuteOf(now) - KEPT_MINUTES) return; // a beat from a clock a day behind
    for (const { queue, succeeded, failed } of finished) {
      if (succeeded === 0 && failed === 0) continue;
      let minutes = this.queues.get(queue);
      if (!minutes) this.queues.set(queue, (minutes = new Map()));
      const counts = minutes.get(minute);
      if (counts) {
        counts.succeeded += succeeded;
        counts.failed += failed;
      } else minutes.set(minute, { succeeded, failed });
    }
  }

  /** `queue`'s counts for the `minutes` minutes up to the current one, oldest first. */
  read(queue: string, minutes: number, now: number): QueueThroughput {
    this.prune(now);
    const first = minuteOf(now) - minutes + 1;
    const succeeded = new Array<number>(minutes).fill(0);
    const failed = new Array<number>(minutes).fill(0);
    for (const [minute, counts] of this.queues.get(queue) ?? []) {
      const index = minute - first;
      if (index < 0 || index >= minutes) continue;
      succeeded[index] = counts.succeeded;
      failed[index] = counts.failed;
    }
    return { since: new Date(first * MINUTE_MS), succeeded, failed };
  }

  /** Queues with counts kept. */
  names(now: number): IterableIterator<string> {
    this.prune(now);
    return this.queues.keys();
  }

  private prune(now: number): void {
    const current = minuteOf(now);
    if (current === this.prunedMinute) return;
    this.prunedMinute = current;
    const oldest = current - KEPT_MINUTES + 1;
    for (const [queue, minutes] of this.queues) {
      for (const minute of minutes.keys()) if (minute < oldest) minutes.delete(minute);
      if (minutes.size === 0) this.queues.delete(queue);
    }
  }
}
