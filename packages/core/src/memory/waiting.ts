/**
 * The jobs of the in-memory store that wait to be taken: ready ones per queue, one FIFO
 * per priority (`ready.ts`), and scheduled ones in one min-heap by run time (then by
 * arrival), moved to ready when a reserve finds them due. Parked and deferred jobs (flow
 * control) wait in the `FlowGate` instead, leased ones in the `LeaseTable`.
 *
 * @module
 */
import type { Entry } from "./entry.js";
import { MinHeap } from "./heap.js";
import { nextExcept, ReadyQueue } from "./ready.js";

/** Ready and scheduled jobs, by queue, priority and run time. */
export class WaitingJobs {
  private readonly ready = new Map<string, ReadyQueue<Entry>>();
  private readonly scheduled = new MinHeap<Entry>((a, b) => a.runAtMs < b.runAtMs || (a.runAtMs === b.runAtMs && a.seq < b.seq));

  /** Stores a job: scheduled when it runs after `now`, else behind the ready jobs of its queue and priority. */
  place(entry: Entry, now: number): void {
    if (entry.runAtMs > now) {
      this.scheduled.push(entry);
      return;
    }
    this.readyQueue(entry.queue).push(entry);
  }

  /** Stores a job that waited elsewhere (parked on its key) where its arrival puts it: among older ready jobs, or scheduled. */
  restore(entry: Entry, now: number): void {
    if (entry.runAtMs > now) this.scheduled.push(entry);
    else this.readyQueue(entry.queue).restore(entry);
  }

  /** Moves the scheduled jobs due by `now` to ready. */
  promoteDue(now: number): void {
    for (let top = this.scheduled.peek(); top && top.runAtMs <= now; top = this.scheduled.peek()) {
      this.place(this.scheduled.pop()!, now);
    }
  }

  /** Takes the next ready job of `queues` ("*": lowest priority, then oldest, over every queue). */
  next(queues: readonly string[] | "*"): Entry | undefined {
    if (queues !== "*") {
      for (const name of queues) {
        const entry = this.ready.get(name)?.shift();
        if (entry) return entry;
      }
      return undefined;
    }
    let best: ReadyQueue<Entry> | undefined;
    let bestHead: Entry | undefined;
    for (const queue of this.ready.values()) {
      if (queue.size === 0) continue;
      const head = queue.peek()!;
      if (!bestHead || head.priority < bestHead.priority || (head.priority === bestHead.priority && head.seq < bestHead.seq)) {
        best = queue;
        bestHead = head;
      }
    }
    return best?.shift();
  }

  /** Takes the next ready job of every queue but those in `skip`, as `next("*")` orders them. */
  nextExcept(skip: ReadonlySet<string>): Entry | undefined {
    return nextExcept(this.ready, skip);
  }

  /** The scheduled job that runs first. */
  firstScheduled(): Entry | undefined {
    return this.scheduled.peek();
  }

  /** Ready jobs, queue by queue. */
  *readyEntries(): Generator<Entry> {
    for (const queue of this.ready.values()) yield* queue;
  }

  /** Scheduled jobs, in no particular order. */
  scheduledEntries(): readonly Entry[] {
    return this.scheduled.values();
  }

  /** Ready jobs, then scheduled ones. */
  *values(): Generator<Entry> {
    yield* this.readyEntries();
    yield* this.scheduled.values();
  }

  /** Removes the jobs of `gone` from ready, and from scheduled unless `fromScheduled` is false (none can be there). O(jobs). */
  remove(gone: ReadonlySet<Entry>, fromScheduled = true): void {
    for (const queue of this.ready.values()) queue.remove(gone);
    if (fromScheduled) this.scheduled.retain((entry) => !gone.has(entry));
  }

  /** Forgets every waiting job. */
  clear(): void {
    this.ready.clear();
    this.scheduled.clear();
  }

  private readyQueue(name: string): ReadyQueue<Entry> {
    let queue = this.ready.get(name);
    if (!queue) this.ready.set(name, (queue = new ReadyQueue()));
    return queue;
  }
}
