/**
 * Flow control for core's in-memory store: unique keys and recurring ticks at enqueue,
 * concurrency and rate limits at reserve. The semantics are the contract's
 * (`FlowControl` in adapter/contract.ts); this is the in-process reading of them.
 *
 * A job whose payload carries `flow.concurrency` or `flow.rateLimit` (a *limited* job) has,
 * besides the store's own states, these:
 *
 * - *holding*: leased, and counted against its concurrency key (and, when it started, once
 *   in its rate window). A slot lives as long as the lease: the store calls {@link ended}
 *   for every settle of the holder and for its lease running out. The job points at its
 *   key's record (`holding`), which counts the key's holders: freeing a slot looks nothing up.
 * - *parked*: it came up for a reserve while its concurrency key was full. It waits in the
 *   key's FIFO, out of every ready queue, so reserves never look at it again; visible state
 *   `queued`. Each {@link ended} of a holder of the key hands back the oldest parked job,
 *   which the store puts back in its ready queue at its old place.
 * - *deferred*: it came up while its rate window was full. It waits in a heap until the
 *   window lets one more start in, then the store puts it back in its ready queue; visible
 *   state `queued`, no execution counted.
 *
 * Everything runs inside one process and one synchronous call at a time, so a key cannot
 * fill up or free between a check and its effect, and a parked job cannot miss the `ended`
 * that frees its key: no sweep is needed here (the durable backends have one).
 *
 * @module
 */
import type { EnqueueResult, JobPayload, JobState, RecurringRecord, UniqueWhile } from "../adapter/contract.js";
import { Fifo, MinHeap } from "./heap.js";

/** A stored job as the gate sees it. */
export interface Gated {
  readonly jobId: string;
  readonly providerJobId: string;
  /** The payload's concurrency and rate limits; undefined for a job without them. */
  limits?: Limits;
  /** The gate's record of the concurrency key whose slot this job holds; set by the gate only. */
  holding?: KeySlots<Gated>;
}

/**
 * One concurrency key: its live holders (counted: each holder points at this record
 * through `holding`, so a settle frees its slot without a lookup) and its parked jobs.
 */
export interface KeySlots<E> {
  holders: number;
  parked: Fifo<E> | undefined;
}

/** The limits a job carries (from `payload.flow`). */
export interface Limits {
  concurrency?: { key: string; limit: number };
  rateLimit?: { key: string; limit: number; perMs: number };
}

/** What a reserve does with a limited job that came up. */
export type StartVerdict = "start" | "park" | "defer";

const BLOCKING: Record<UniqueWhile, ReadonlySet<JobState>> = {
  queued: new Set(["scheduled", "queued"]),
  active: new Set(["scheduled", "queued", "running", "retrying"]),
  done: new Set(["scheduled", "queued", "running", "retrying", "succeeded"]),
};

interface Lock {
  jobId: string;
  providerJobId: string;
  while: UniqueWhile;
  /** ms since the epoch; Infinity without `forMs`. */
  expiresAt: number;
}

/**
 * The limits of a payload, or undefined when it has none (the common case: one field test).
 * The payload's own `flow` is the answer (a `FlowControl` is a `Limits`, its other parts
 * unread here): no object is built per job.
 */
export function limitsOf(payload: JobPayload): Limits | undefined {
  const flow = payload.flow;
  if (flow === undefined || (flow.concurrency === undefined && flow.rateLimit === undefined)) return undefined;
  return flow;
}

/** Unique locks, recurring ticks, slots, rate windows, parked and deferred jobs. */
export class FlowGate<E extends Gated> {
  private readonly locks = new Map<string, Lock>();
  /** Lock count after the last prune: the next prune waits until it doubles. */
  private prunedAt = 1024;
  private readonly ticks = new Map<string, RecurringRecord & { providerJobId: string }>();
  /**
   * Concurrency keys. A key's record stays when it empties (most settles empty their key:
   * deleting it there and making it again at the next start was a Map delete, a Set and a
   * Map insert per job) and is dropped by {@link pruneKeys} once the map has doubled.
   */
  private readonly slots = new Map<string, KeySlots<E>>();
  /**
   * Start times (ms) per rate key, ascending, trimmed to the key's window when read. An
   * emptied window stays, as a key's slots do, until {@link pruneKeys}.
   */
  private readonly starts = new Map<string, number[]>();
  /** Size of `slots` + `starts` after the last prune: the next waits until it doubles. */
  private keysPrunedAt = 1024;
  private readonly deferred = new MinHeap<{ entry: E; until: number }>((a, b) => a.until < b.until);

  /** @param stateOf the current state of a job by Errand id, undefined when the store forgot it. */
  constructor(private readonly stateOf: (jobId: string) => JobState | undefined) {}

  /**
   * The enqueue decision for a payload carrying `flow.unique` or `flow.recurring`: the
   * duplicate's result, or undefined when it is to be stored (then call {@link stored}).
   */
  admit(payload: JobPayload, now: number): EnqueueResult | undefined {
    const { unique, recurring } = payload.flow!;
    if (recurring) {
      const last = this.ticks.get(recurring.task);
      if (last && last.lastTick.getTime() >= Date.parse(recurring.tick)) {
        return { jobId: last.jobId, providerJobId: last.providerJobId, duplicate: true };
      }
    }
    if (unique) {
      const lock = this.locks.get(unique.key);
      if (lock && this.blocks(lock, now)) return { jobId: lock.jobId, providerJobId: lock.providerJobId, duplicate: true };
    }
    return undefined;
  }

  /** Records a payload {@link admit} let through as its unique key's holder and its task's last tick. */
  stored(payload: JobPayload, providerJobId: string, now: number): void {
    const { unique, recurring } = payload.flow!;
    if (recurring) this.ticks.set(recurring.task, { task: recurring.task, lastTick: new Date(recurring.tick), jobId: payload.id, providerJobId });
    if (unique) {
      const expiresAt = unique.forMs === undefined ? Infinity : Date.parse(payload.enqueuedAt) + unique.forMs;
      this.locks.set(unique.key, { jobId: payload.id, providerJobId, while: unique.while, expiresAt });
      if (this.locks.size >= 2 * this.prunedAt) this.prune(now);
    }
  }

  private blocks(lock: Lock, now: number): boolean {
    if (now >= lock.expiresAt) return false;
    const state = this.stateOf(lock.jobId);
    return state !== undefined && BLOCKING[lock.while].has(state);
  }

  /** Drops locks that no longer block anything, so keys used once do not pile up. */
  private prune(now: number): void {
    for (const [key, lock] of this.locks) if (!this.blocks(lock, now)) this.locks.delete(key);
    this.prunedAt = Math.max(1024, this.locks.size);
  }

  /** Each task's last tick, `null` for a task with none. */
  recurringState(tasks: readonly string[]): (RecurringRecord | null)[] {
    return tasks.map((task) => {
      const record = this.ticks.get(task);
      return record ? { task, lastTick: record.lastTick, jobId: record.jobId } : null;
    });
  }

  /**
   * Whether a limited job that came up may start now. Decides only: a "start" is recorded
   * by {@link started} when the job is leased, "park" and "defer" by {@link park} and
   * {@link defer}. The rate limit is asked first, so a deferred job takes no slot.
   */
  verdict(entry: E, now: number): StartVerdict {
    const { concurrency, rateLimit } = entry.limits!;
    if (rateLimit && this.rateWindow(rateLimit.key, rateLimit.perMs, now).length >= rateLimit.limit) return "defer";
    if (concurrency && (this.slots.get(concurrency.key)?.holders ?? 0) >= concurrency.limit) return "park";
    return "start";
  }

  private rateWindow(key: string, perMs: number, now: number): number[] {
    const window = this.starts.get(key);
    if (!window) return [];
    // `shift` trims a short array in place; `splice(0, n)` allocated the removed times' array.
    const horizon = now - perMs;
    while (window.length > 0 && window[0]! <= horizon) window.shift();
    return window;
  }

  /** Records a limited job's start: a slot of its concurrency key, a start in its rate window. */
  started(entry: E, now: number): void {
    const { concurrency, rateLimit } = entry.limits!;
    let added = false;
    if (concurrency) {
      let slots = this.slots.get(concurrency.key);
      if (!slots) {
        this.slots.set(concurrency.key, (slots = { holders: 0, parked: undefined }));
        added = true;
      }
      slots.holders++;
      entry.holding = slots as KeySlots<Gated>;
    }
    if (rateLimit) {
      let window = this.starts.get(rateLimit.key);
      if (!window) {
        this.starts.set(rateLimit.key, (window = []));
        added = true;
      }
      window.push(now);
    }
    if (added && this.slots.size + this.starts.size >= 2 * this.keysPrunedAt) this.pruneKeys();
  }

  /**
   * Drops the records of concurrency keys with no holder and nothing parked, and empty rate
   * windows (a window is trimmed when read; one not read since its key went idle keeps its
   * last starts, as it did when empty windows were dropped at once).
   */
  private pruneKeys(): void {
    for (const [key, slots] of this.slots) if (slots.holders === 0 && slots.parked === undefined) this.slots.delete(key);
    for (const [key, window] of this.starts) if (window.length === 0) this.starts.delete(key);
    this.keysPrunedAt = Math.max(1024, this.slots.size + this.starts.size);
  }

  /**
   * A limited job's lease ended (any settle, or the lease ran out): frees its slot and
   * returns the oldest job parked on its key, for the store to put back in its ready queue.
   */
  ended(entry: E): E | undefined {
    const slots = entry.holding as KeySlots<E> | undefined;
    if (slots === undefined) return undefined;
    entry.holding = undefined;
    slots.holders--;
    const parked = slots.parked;
    if (parked === undefined) return undefined;
    const next = parked.shift();
    if (parked.length === 0) slots.parked = undefined;
    return next;
  }

  /** Parks a job whose concurrency key was full. */
  park(entry: E): void {
    const key = entry.limits!.concurrency!.key;
    let slots = this.slots.get(key);
    if (!slots) this.slots.set(key, (slots = { holders: 0, parked: undefined }));
    (slots.parked ??= new Fifo()).push(entry);
  }

  /** Defers a job whose rate window was full until the window lets one more start in. */
  defer(entry: E, now: number): void {
    const { key, limit, perMs } = entry.limits!.rateLimit!;
    const window = this.rateWindow(key, perMs, now);
    this.deferred.push({ entry, until: window[window.length - limit]! + perMs });
  }

  /** Deferred jobs whose time has come, taken out of the heap. */
  *due(now: number): Generator<E> {
    for (let top = this.deferred.peek(); top && top.until <= now; top = this.deferred.peek()) yield this.deferred.pop()!.entry;
  }

  /** When the next deferred job comes due, or undefined. */
  nextDueAt(): number | undefined {
    return this.deferred.peek()?.until;
  }

  /** Parked and deferred jobs (their visible state is `queued`). */
  *waiting(): Generator<E> {
    for (const { parked } of this.slots.values()) if (parked) yield* parked;
    for (const { entry } of this.deferred.values()) yield entry;
  }

  /** Takes these jobs out of the parked FIFOs and the deferred heap (an operator cancelled or moved them). O(waiting). */
  withdraw(gone: ReadonlySet<E>): void {
    for (const slots of this.slots.values()) {
      if (slots.parked === undefined) continue;
      slots.parked.retain((entry) => !gone.has(entry));
      if (slots.parked.length === 0) slots.parked = undefined;
    }
    this.deferred.retain(({ entry }) => !gone.has(entry));
  }

  /** Forgets everything (the store was cleared). */
  clear(): void {
    this.locks.clear();
    this.ticks.clear();
    this.slots.clear();
    this.starts.clear();
    this.deferred.clear();
  }
}
