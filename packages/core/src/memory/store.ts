/**
 * Core's in-memory job store: the one store behind every in-memory backend (the async
 * adapter, the test adapter, the inline adapter), so they share one set of semantics.
 *
 * A stored job moves through these states:
 *
 * - *scheduled*: its run time is in the future; in a min-heap by run time.
 * - *ready*: due; in its queue's FIFO for its priority. A scheduled job becomes ready when
 *   a reserve finds its time has come.
 * - *leased*: handed out by `take` (or `takeWhere`) with a new lease token and a deadline.
 *   Settling with the current token ends the lease: `released` makes it ready again,
 *   `retry` scheduled (or ready) with the new payload, `dead` moves it to the dead set,
 *   `succeeded` and `failed` drop it. A lease whose deadline passes unsettled makes the job
 *   ready again (status `queued`); the old holder's token is then stale and its settlement
 *   and renewals are ignored. A renewal past the deadline of a job holding a concurrency
 *   slot is refused before that sweep too (see `extend`).
 * - *dead*: in the dead set until retried (stored again, ready, with the body core revived)
 *   or purged. Dead jobs refused by core's revival stay where they were.
 *
 * Indexes, for throughput (`npm run bench` drains through this store):
 *
 * - ready jobs: per queue, one FIFO per priority, so taking the next job is O(number of
 *   distinct priorities), usually O(1);
 * - scheduled jobs: one min-heap by run time, promoted when due (these two in a
 *   `WaitingJobs`, waiting.ts);
 * - leases: a `LeaseTable` (leases.ts), deadlines in a min-heap swept when a reserve runs;
 * - statuses: a `MemoryStatusStore` (finished ones bounded by count and age), each record
 *   held beside its job to save a lookup by id per state change.
 *
 * Batches (`capabilities.batches`) are counted in a `MemoryBatches` (batches.ts) in the same
 * synchronous step that stores, settles, cancels or revives one of their jobs; a finishing
 * batch stores its callbacks through the store's insert in that step too.
 *
 * Flow control (unique keys, recurring ticks, concurrency and rate limits) lives in a
 * `FlowGate` (flow.ts); a job without `flow` never reaches it. Operator actions (control.ts)
 * walk `held()` and take waiting jobs out of `waiting` and `gate` and put them back, never
 * on the drain path.
 *
 * Due jobs and expired leases are handled when someone reserves; a waiting reserve sets its
 * timer to the earliest of its wait, the next run time and the next lease deadline, so no
 * background timer runs while nobody waits.
 *
 * @module
 */
import type { DeadJob, DeadSelection, EnqueueResult, JobPayload, QueueInfo, RecurringRecord, Reservation, RetryDeadOptions, Settlement } from "../adapter/contract.js";
import { MemoryBatches } from "./batches.js";
import { DeadSet } from "./dead-set.js";
import type { Entry, MemoryJob } from "./entry.js";
import { FlowGate, limitsOf } from "./flow.js";
import { countQueues } from "./counts.js";
import { LeaseTable } from "./leases.js";
import { Waiters } from "./waiters.js";
import { WaitingJobs } from "./waiting.js";
import { MemoryStatusStore, type MemoryStatusOptions } from "./status.js";

export type { MemoryJob } from "./entry.js";

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Most dead jobs kept; the oldest are dropped. Default 10,000. */
  maxDead?: number;
  /** Retention of finished statuses. */
  statuses?: MemoryStatusOptions;
}

/** Jobs, leases, the dead set and statuses, in process memory. */
export class MemoryStore {
  /** @internal ready and scheduled jobs (waiting.ts); operator actions (control.ts) take jobs out and put them back. */
  readonly waiting = new WaitingJobs();
  private readonly leases = new LeaseTable<Entry>();
  /** Dead jobs, oldest first (listed by the adapter; moved and purged through the store). */
  readonly dead: DeadSet;
  private readonly waiters = new Waiters();
  /** @internal flow control (flow.ts), with the parked and deferred jobs operator actions take out too. */
  readonly gate = new FlowGate<Entry>((jobId) => this.statuses.get(jobId)?.state);
  /** Statuses of the jobs stored (and of finished ones, for a while). */
  readonly statuses: MemoryStatusStore;
  /** Batch records and their counts (batches.ts); a finishing batch stores its callbacks here. */
  readonly batches: MemoryBatches;
  private seq = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.dead = new DeadSet(options.maxDead ?? 10_000);
    this.statuses = new MemoryStatusStore(options.statuses);
    // A finishing batch's callbacks: plain ready jobs (core refuses flow control on them).
    this.batches = new MemoryBatches(options.statuses?.finishedTtlMs ?? 86_400_000, (payloads, now) => {
      for (const payload of payloads) this.insert(payload, JSON.stringify(payload), now);
      this.wakeAll();
    });
  }

  /**
   * Stores payloads, encoded as they are; each is queued, or scheduled by its `runAt`. A
   * payload naming a batch not held fails the whole call, before anything is stored.
   */
  add(payloads: readonly JobPayload[]): EnqueueResult[] {
    const now = Date.now();
    this.batches.check(payloads);
    const results = payloads.map((payload): EnqueueResult => {
      const flow = payload.flow;
      if (flow?.unique === undefined && flow?.recurring === undefined) {
        const entry = this.insert(payload, JSON.stringify(payload), now);
        if (entry.batch !== undefined) this.batches.stored(entry.batch);
        return { jobId: payload.id, providerJobId: entry.providerJobId };
      }
      const duplicate = this.gate.admit(payload, now);
      if (duplicate) return duplicate;
      const entry = this.insert(payload, JSON.stringify(payload), now);
      if (entry.batch !== undefined) this.batches.stored(entry.batch);
      this.gate.stored(payload, entry.providerJobId, now);
      return { jobId: payload.id, providerJobId: entry.providerJobId };
    });
    this.wakeAll();
    return results;
  }

  /** Each recurring task's last stored tick. */
  recurringState(tasks: readonly string[]): (RecurringRecord | null)[] {
    return this.gate.recurringState(tasks);
  }

  /**
   * Stores one job with the body given, unchecked: `payload` only says where it goes
   * (queue, priority, run time) and what its status shows. Returns its provider id.
   */
  put(payload: JobPayload, body: string): string {
    const entry = this.insert(payload, body, Date.now());
    this.wakeAll();
    return entry.providerJobId;
  }

  private insert(payload: JobPayload, body: string, now: number): Entry {
    const seq = ++this.seq;
    const entry: Entry = {
      // The store's own counter. Measured: random UUIDs (the test adapter's ids before it shared
      // this store) made an add/take/settle loop of 100k jobs 1.6× slower (1,555 vs 947 ms).
      providerJobId: String(seq),
      jobId: payload.id,
      job: payload.job,
      body,
      queue: payload.queue,
      priority: payload.priority,
      runAtMs: Date.parse(payload.runAt) || 0,
      seq,
      executions: payload.executions,
      leaseUntil: 0,
      leaseToken: 0,
      deliveries: 0,
      status: payload.id,
      limits: limitsOf(payload),
      batch: payload.batch !== undefined && payload.batch.callback === undefined ? payload.batch.id : undefined,
      holding: undefined,
    };
    entry.status = this.statuses.enqueued(payload, now);
    this.waiting.place(entry, now);
    return entry;
  }

  /** Moves due scheduled jobs to ready and jobs whose lease ran out back to ready. */
  private sweep(now: number): void {
    this.waiting.promoteDue(now);
    for (const entry of this.leases.expired(now)) {
      this.statuses.settled(entry.status, { reservation: { providerJobId: entry.providerJobId, body: entry.body }, outcome: "released" }, now);
      this.waiting.place(entry, now);
      if (entry.limits) this.unpark(entry, now);
    }
    for (const entry of this.gate.due(now)) this.waiting.place(entry, now);
  }

  /** Frees a limited job's slot; the oldest job parked on its key goes back to its place. */
  private unpark(entry: Entry, now: number): boolean {
    const next = this.gate.ended(entry);
    if (!next) return false;
    this.waiting.restore(next, now);
    return true;
  }

  private lease(entry: Entry, now: number, until: number): Reservation {
    this.leases.grant(entry, until, ++this.seq);
    entry.deliveries++;
    this.statuses.started(entry.status, now);
    if (entry.limits) this.gate.started(entry, now);
    return { providerJobId: entry.providerJobId, body: entry.body, deliveries: entry.deliveries, handle: entry.leaseToken };
  }

  /**
   * Leases up to `max` ready jobs of `queues`, in the queues' order, lower priority first,
   * then oldest; none of the queues in `except` (paused ones).
   */
  take(queues: readonly string[] | "*", max: number, leaseMs: number, except?: readonly string[]): Reservation[] {
    const now = Date.now();
    this.sweep(now);
    const taken: Reservation[] = [];
    const until = now + leaseMs;
    // Decided once per call, so a reserve without `except` does per job what it always did.
    let skip: ReadonlySet<string> | undefined;
    if (except !== undefined && except.length > 0) {
      if (queues === "*") skip = new Set(except);
      else queues = queues.filter((name) => !except.includes(name));
    }
    while (taken.length < max) {
      const entry = skip === undefined ? this.waiting.next(queues) : this.waiting.nextExcept(skip);
      if (!entry) break;
      const verdict = entry.limits ? this.gate.verdict(entry, now) : "start";
      if (verdict === "start") taken.push(this.lease(entry, now, until));
      else if (verdict === "park") this.gate.park(entry);
      else this.gate.defer(entry, now);
    }
    return taken;
  }

  /**
   * Leases up to `max` stored jobs that `filter` accepts, lower priority first, then oldest;
   * with `includeScheduled`, jobs not yet due too, in run-time order. O(jobs stored): for
   * test helpers and inline runs, not for workers.
   */
  takeWhere(filter: (job: MemoryJob) => boolean, options: { leaseMs: number; max?: number; includeScheduled?: boolean }): Reservation[] {
    const now = Date.now();
    this.sweep(now);
    const chosen: Entry[] = [];
    for (const entry of this.waiting.readyEntries()) if (filter(entry)) chosen.push(entry);
    const readyCount = chosen.length;
    if (options.includeScheduled) for (const entry of this.waiting.scheduledEntries()) if (filter(entry)) chosen.push(entry);
    const fromScheduled = chosen.length > readyCount;
    chosen.sort((a, b) => (options.includeScheduled ? a.runAtMs - b.runAtMs : 0) || a.priority - b.priority || a.seq - b.seq);
    chosen.length = Math.min(chosen.length, options.max ?? Infinity);
    if (chosen.length === 0) return [];
    const gone = new Set(chosen);
    this.waiting.remove(gone, fromScheduled);
    const until = now + options.leaseMs;
    return chosen.map((entry) => this.lease(entry, now, until));
  }

  /** Milliseconds until the next scheduled job or lease deadline, or Infinity. */
  nextEventIn(now: number): number {
    const times = [this.waiting.firstScheduled()?.runAtMs, this.leases.nextDeadline(), this.gate.nextDueAt()].filter((t): t is number => t !== undefined);
    return times.length === 0 ? Infinity : Math.max(0, Math.min(...times) - now);
  }

  /** Waits until something may have become ready, `ms` passed, or `signal` aborted. */
  wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return this.waiters.wait(Math.min(ms, this.nextEventIn(Date.now()) + 1), signal);
  }

  /** Wakes every waiting reserve: something may have become ready. */
  wakeAll(): void {
    this.waiters.wakeAll();
  }

  /** Applies settlements; those whose lease was lost are ignored. Returns the ones applied. */
  settle(settlements: readonly Settlement[]): Settlement[] {
    const now = Date.now();
    const applied: Settlement[] = [];
    let wake = false;
    for (const settlement of settlements) {
      const entry = this.leases.holder(settlement.reservation);
      if (!entry) continue;
      applied.push(settlement);
      this.leases.end(entry);
      this.statuses.settled(entry.status, settlement, now);
      if (entry.limits) wake = this.unpark(entry, now) || wake;
      switch (settlement.outcome) {
        case "released":
          this.waiting.place(entry, now);
          wake = true;
          break;
        case "retry":
          entry.body = JSON.stringify(settlement.payload);
          entry.queue = settlement.payload.queue;
          entry.priority = settlement.payload.priority;
          entry.executions = settlement.payload.executions;
          entry.runAtMs = settlement.runAt.getTime();
          entry.limits = limitsOf(settlement.payload);
          if (entry.batch !== undefined) this.batches.retried(entry.batch);
          this.waiting.place(entry, now);
          // Due now, or the new earliest run time: waiting reserves must recompute their timers.
          wake ||= entry.runAtMs <= now || this.waiting.firstScheduled() === entry;
          break;
        case "dead":
          this.dead.add({
            id: settlement.payload?.id ?? entry.jobId,
            providerJobId: entry.providerJobId,
            queue: settlement.payload?.queue ?? entry.queue,
            body: settlement.payload ? JSON.stringify(settlement.payload) : entry.body,
            error: settlement.error,
            diedAt: new Date(now),
          });
          if (entry.batch !== undefined) this.batches.finished(entry.batch, "dead", now);
          break;
        case "succeeded":
          if (entry.batch !== undefined) this.batches.finished(entry.batch, "succeeded", now);
          break;
        case "failed":
          if (entry.batch !== undefined) this.batches.finished(entry.batch, "discarded", now);
          break;
      }
    }
    if (wake) this.wakeAll();
    return applied;
  }

  /**
   * Extends leases; returns provider ids no longer leased. A holder of a concurrency slot
   * whose deadline has passed is refused (lost) even before a sweep returned it: it no
   * longer counts against its key, so its renewal must not bring the key above its limit.
   * Its lease stays expired, and the next sweep makes it ready again and frees its slot. A
   * plain job's late renewal succeeds while no sweep took it back, as it always did.
   */
  extend(reservations: readonly Reservation[], leaseMs: number): string[] {
    const now = Date.now();
    const until = now + leaseMs;
    const lost: string[] = [];
    for (const reservation of reservations) {
      const entry = this.leases.holder(reservation);
      if (entry && !(entry.leaseUntil <= now && entry.limits?.concurrency)) this.leases.extend(entry, until);
      else lost.push(reservation.providerJobId);
    }
    return lost;
  }

  /** Counts per queue; with `details`, `succeeded`, `failed` and `latencyMs` too; `known` listed even when empty. O(jobs). */
  queues(details = false, known: Iterable<string> = []): QueueInfo[] {
    const now = Date.now();
    const finished = details ? { finished: this.statuses.finished(now) } : {};
    return countQueues({ held: this.held(), dead: this.dead.values(), known, ...finished }, now);
  }

  /** Jobs held but the dead: waiting (ready, scheduled, parked, deferred), leased, or all. O(jobs), for listings. */
  *held(which: "waiting" | "leased" | "all" = "all"): Generator<Entry> {
    if (which !== "leased") {
      yield* this.waiting.values();
      yield* this.gate.waiting();
    }
    if (which !== "waiting") yield* this.leases.values();
  }

  /** Stores dead jobs again as core revived them, due now; those core refuses stay dead, in place. */
  retryDead(select: DeadSelection, revive: RetryDeadOptions["revive"]): number {
    const moved = new Set<DeadJob>();
    for (const job of this.dead.select(select)) {
      const revived = revive(job.body);
      if (!revived) continue;
      // The clock is read after core chose the revived runAt ("now" to the millisecond): read
      // before, a revival crossing a millisecond boundary was stored as scheduled 1 ms ahead
      // (a CI run saw status "scheduled" right after retry).
      const entry = this.insert(revived.payload, revived.body, Date.now());
      if (entry.batch !== undefined) this.batches.revived(entry.batch);
      moved.add(job);
    }
    this.dead.remove(moved);
    if (moved.size > 0) this.wakeAll();
    return moved.size;
  }

  /** Deletes dead jobs and their statuses. */
  purgeDead(select: DeadSelection): number {
    const chosen = this.dead.select(select);
    this.dead.remove(new Set(chosen));
    for (const job of chosen) this.statuses.delete(job.id);
    return chosen.length;
  }

  /** Forgets every job — ready, scheduled, leased, dead — and wakes waiters; statuses stay. */
  clear(): void {
    this.waiting.clear();
    this.leases.clear();
    this.dead.clear();
    this.gate.clear();
    this.batches.clear();
    this.wakeAll();
  }
}
