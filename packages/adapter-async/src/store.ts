/**
 * The async adapter's store: everything in process memory, indexed for throughput.
 *
 * - Ready jobs: per queue, one FIFO per priority (priorities kept sorted), so taking
 *   the next job is O(number of distinct priorities), usually O(1).
 * - Scheduled and retrying jobs: one min-heap by run time, promoted when due.
 * - Leases: a min-heap by deadline with lazy deletion (an extended lease pushes a new
 *   node; the stale one is skipped); an expired lease puts the job back.
 * - Dead set: an array capped at `maxDead`, oldest dropped.
 * - Statuses: core's `MemoryStatusStore` (finished ones bounded by count and age).
 *
 * Due jobs and expired leases are handled when someone reserves; a waiting reserve sets
 * its timer to the earliest of its wait, the next run time and the next lease deadline,
 * so no background timer runs while nobody waits.
 *
 * @module
 */
import type { DeadJob, DeadSelection, JobPayload, QueueInfo, Reservation, RetryDeadOptions, Settlement, StatusRecord } from "@errand/core/adapter";
import { MemoryStatusStore, type MemoryStatusOptions } from "@errand/core/adapter";

import { Fifo, MinHeap } from "./heap.js";

/** One stored job. */
interface Entry {
  providerJobId: string;
  jobId: string;
  body: string;
  queue: string;
  priority: number;
  runAtMs: number;
  seq: number;
  executions: number;
  /** 0 when not leased; the deadline otherwise. */
  leaseUntil: number;
  /** Changes at every reservation; a reservation carrying an older one is stale. */
  leaseToken: number;
  /** The job's status record, held here to save a lookup by id per state change. */
  status: StatusRecord | string;
}

/** Ready jobs of one queue, FIFO per priority. */
class ReadyQueue {
  private readonly buckets = new Map<number, Fifo<Entry>>();
  private priorities: number[] = [];
  size = 0;

  push(entry: Entry): void {
    let bucket = this.buckets.get(entry.priority);
    if (!bucket) {
      this.buckets.set(entry.priority, (bucket = new Fifo()));
      this.priorities.push(entry.priority);
      this.priorities.sort((a, b) => a - b);
    }
    bucket.push(entry);
    this.size++;
  }

  /** The next entry without taking it. */
  peek(): Entry | undefined {
    for (const priority of this.priorities) {
      const entry = this.buckets.get(priority)!.peek();
      if (entry) return entry;
    }
    return undefined;
  }

  shift(): Entry | undefined {
    for (const priority of this.priorities) {
      const entry = this.buckets.get(priority)!.shift();
      if (entry) {
        this.size--;
        return entry;
      }
    }
    return undefined;
  }

  *[Symbol.iterator](): IterableIterator<Entry> {
    for (const priority of this.priorities) yield* this.buckets.get(priority)!;
  }
}

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Most dead jobs kept; the oldest are dropped. Default 10,000. */
  maxDead?: number;
  /** Retention of finished statuses. */
  statuses?: MemoryStatusOptions;
}

type Waiter = () => void;

/** All of the async adapter's state. */
export class MemoryStore {
  private readonly ready = new Map<string, ReadyQueue>();
  private readonly scheduled = new MinHeap<Entry>((a, b) => a.runAtMs < b.runAtMs || (a.runAtMs === b.runAtMs && a.seq < b.seq));
  private readonly leases = new MinHeap<{ entry: Entry; until: number }>((a, b) => a.until < b.until);
  private readonly leased = new Map<string, Entry>();
  private readonly dead: DeadJob[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly maxDead: number;
  readonly statuses: MemoryStatusStore;
  private seq = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.maxDead = options.maxDead ?? 10_000;
    this.statuses = new MemoryStatusStore(options.statuses);
  }

  /** Stores payloads; returns their provider ids. */
  add(payloads: readonly JobPayload[]): string[] {
    const now = Date.now();
    const ids = payloads.map((payload) => {
      const entry = this.entryFor(payload, JSON.stringify(payload));
      entry.status = this.statuses.enqueued(payload, now);
      this.place(entry, now);
      return entry.providerJobId;
    });
    this.wakeAll();
    return ids;
  }

  private entryFor(payload: JobPayload, body: string): Entry {
    const seq = ++this.seq;
    return {
      providerJobId: String(seq),
      jobId: payload.id,
      body,
      queue: payload.queue,
      priority: payload.priority,
      runAtMs: Date.parse(payload.runAt) || 0,
      seq,
      executions: payload.executions,
      leaseUntil: 0,
      leaseToken: 0,
      status: payload.id,
    };
  }

  private place(entry: Entry, now: number): void {
    if (entry.runAtMs > now) {
      this.scheduled.push(entry);
      return;
    }
    let queue = this.ready.get(entry.queue);
    if (!queue) this.ready.set(entry.queue, (queue = new ReadyQueue()));
    queue.push(entry);
  }

  /** Moves due scheduled jobs to ready and expired leases back; returns true when something became ready. */
  private sweep(now: number): boolean {
    let moved = false;
    for (let top = this.scheduled.peek(); top && top.runAtMs <= now; top = this.scheduled.peek()) {
      this.place(this.scheduled.pop()!, now);
      moved = true;
    }
    for (let top = this.leases.peek(); top && top.until <= now; top = this.leases.peek()) {
      this.leases.pop();
      const { entry, until } = top;
      if (entry.leaseUntil !== until || this.leased.get(entry.providerJobId) !== entry) continue; // extended or settled
      this.leased.delete(entry.providerJobId);
      entry.leaseUntil = 0;
      this.statuses.settled(entry.status, { reservation: { providerJobId: entry.providerJobId, body: entry.body }, outcome: "released" }, now);
      this.place(entry, now);
      moved = true;
    }
    return moved;
  }

  /** The next ready entry of `queues` ("*": lowest priority, then oldest, over every queue). */
  private next(queues: readonly string[] | "*"): Entry | undefined {
    if (queues !== "*") {
      for (const name of queues) {
        const entry = this.ready.get(name)?.shift();
        if (entry) return entry;
      }
      return undefined;
    }
    let best: ReadyQueue | undefined;
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

  /** Leases up to `max` ready jobs. */
  take(queues: readonly string[] | "*", max: number, leaseMs: number): Reservation[] {
    const now = Date.now();
    this.sweep(now);
    const taken: Reservation[] = [];
    const until = now + leaseMs;
    while (taken.length < max) {
      const entry = this.next(queues);
      if (!entry) break;
      entry.leaseUntil = until;
      entry.leaseToken = ++this.seq;
      this.leased.set(entry.providerJobId, entry);
      this.leases.push({ entry, until });
      this.statuses.started(entry.status, now);
      taken.push({ providerJobId: entry.providerJobId, body: entry.body, handle: entry.leaseToken });
    }
    return taken;
  }

  /** Milliseconds until the next scheduled job or lease deadline, or Infinity. */
  nextEventIn(now: number): number {
    const times = [this.scheduled.peek()?.runAtMs, this.leases.peek()?.until].filter((t): t is number => t !== undefined);
    return times.length === 0 ? Infinity : Math.max(0, Math.min(...times) - now);
  }

  /** Waits until something may have become ready, `ms` passed, or `signal` aborted. */
  wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, Math.min(ms, this.nextEventIn(Date.now()) + 1)));
      timer.unref();
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  private wakeAll(): void {
    if (this.waiters.size === 0) return;
    for (const waiter of [...this.waiters]) waiter();
  }

  /** The leased entry a reservation still holds, or undefined when its lease was lost. */
  private held(reservation: Reservation): Entry | undefined {
    const entry = this.leased.get(reservation.providerJobId);
    return entry && entry.leaseToken === reservation.handle ? entry : undefined;
  }

  /** Applies settlements; those whose lease was lost are ignored. */
  settle(settlements: readonly Settlement[]): void {
    const now = Date.now();
    let wake = false;
    for (const settlement of settlements) {
      const entry = this.held(settlement.reservation);
      if (!entry) continue;
      this.leased.delete(entry.providerJobId);
      entry.leaseUntil = 0;
      this.statuses.settled(entry.status, settlement, now);
      switch (settlement.outcome) {
        case "released":
          this.place(entry, now);
          wake = true;
          break;
        case "retry":
          entry.body = JSON.stringify(settlement.payload);
          entry.queue = settlement.payload.queue;
          entry.priority = settlement.payload.priority;
          entry.executions = settlement.payload.executions;
          entry.runAtMs = settlement.runAt.getTime();
          this.place(entry, now);
          // Due now, or the new earliest run time: waiting reserves must recompute their timers.
          wake ||= entry.runAtMs <= now || this.scheduled.peek() === entry;
          break;
        case "dead":
          this.bury({
            id: settlement.payload?.id ?? entry.jobId ?? entry.providerJobId,
            providerJobId: entry.providerJobId,
            queue: settlement.payload?.queue ?? entry.queue,
            body: settlement.payload ? JSON.stringify(settlement.payload) : entry.body,
            error: settlement.error,
            diedAt: new Date(now),
          });
          break;
        case "succeeded":
        case "failed":
          break;
      }
    }
    // Settled leases stay in the heap (lazy deletion) until their deadline passes: with the
    // default 5-minute lease that is every job run in the last 5 minutes, body included.
    // Drop them once they outnumber live leases.
    if (this.leases.size > 2 * this.leased.size + 1024) {
      this.leases.retain(({ entry, until }) => entry.leaseUntil === until && this.leased.get(entry.providerJobId) === entry);
    }
    if (wake) this.wakeAll();
  }

  private bury(job: DeadJob): void {
    this.dead.push(job);
    if (this.dead.length > this.maxDead) this.dead.splice(0, this.dead.length - this.maxDead);
  }

  /** Extends leases; returns provider ids no longer leased. */
  extend(reservations: readonly Reservation[], leaseMs: number): string[] {
    const until = Date.now() + leaseMs;
    const lost: string[] = [];
    for (const reservation of reservations) {
      const entry = this.held(reservation);
      if (!entry) {
        lost.push(reservation.providerJobId);
        continue;
      }
      entry.leaseUntil = until;
      this.leases.push({ entry, until });
    }
    return lost;
  }

  /** Counts per queue. */
  queues(): QueueInfo[] {
    const infos = new Map<string, QueueInfo>();
    const info = (name: string) => {
      let entry = infos.get(name);
      if (!entry) infos.set(name, (entry = { name, queued: 0, scheduled: 0, running: 0, retrying: 0, dead: 0 }));
      return entry;
    };
    for (const [name, queue] of this.ready) if (queue.size > 0) info(name).queued += queue.size;
    for (const entry of this.scheduled.values()) {
      if (entry.executions > 0) info(entry.queue).retrying++;
      else info(entry.queue).scheduled++;
    }
    for (const entry of this.leased.values()) info(entry.queue).running++;
    for (const job of this.dead) info(job.queue).dead++;
    return [...infos.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Dead jobs, newest first. */
  listDead(queue: string | undefined, limit: number, offset: number): DeadJob[] {
    const result: DeadJob[] = [];
    let skipped = 0;
    for (let index = this.dead.length - 1; index >= 0 && result.length < limit; index--) {
      const job = this.dead[index]!;
      if (queue !== undefined && job.queue !== queue) continue;
      if (skipped++ < offset) continue;
      result.push(job);
    }
    return result;
  }

  private removeDead(select: DeadSelection): DeadJob[] {
    const ids = "ids" in select ? new Set(select.ids) : undefined;
    const chosen: DeadJob[] = [];
    const kept: DeadJob[] = [];
    for (const job of this.dead) {
      const hit = ids ? ids.has(job.id) || ids.has(job.providerJobId) : !("queue" in select) || select.queue === undefined || job.queue === select.queue;
      (hit ? chosen : kept).push(job);
    }
    this.dead.splice(0, this.dead.length, ...kept);
    return chosen;
  }

  /** Moves dead jobs back as core revived them; those core refuses stay dead. */
  retryDead(select: DeadSelection, revive: RetryDeadOptions["revive"]): number {
    const now = Date.now();
    let moved = 0;
    for (const job of this.removeDead(select)) {
      const revived = revive(job.body);
      if (!revived) {
        this.dead.push(job);
        continue;
      }
      const entry = this.entryFor(revived.payload, revived.body);
      entry.status = this.statuses.enqueued(revived.payload, now);
      this.place(entry, now);
      moved++;
    }
    if (moved > 0) this.wakeAll();
    return moved;
  }

  /** Deletes dead jobs. */
  purgeDead(select: DeadSelection): number {
    const removed = this.removeDead(select);
    for (const job of removed) this.statuses.delete(job.id);
    return removed.length;
  }

  /** Forgets everything and wakes waiters (close). */
  clear(): void {
    this.ready.clear();
    this.leased.clear();
    this.dead.length = 0;
    this.wakeAll();
  }
}
