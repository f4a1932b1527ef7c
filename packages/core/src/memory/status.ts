/**
 * Job statuses kept in process memory, for the in-memory adapters (async, test,
 * inline) and as the "memory" status store of adapters whose backend keeps no state.
 *
 * Live jobs (scheduled, queued, running, retrying) are kept until they finish, or, with
 * `maxLive`, until more than that many live ones were recorded after them (the oldest
 * enqueued dropped first: a process that records jobs other processes run never sees them
 * finish). Finished ones are kept for `finishedTtlMs` (succeeded, failed) or `deadTtlMs`
 * (dead), and at most `maxFinished` of them, oldest finished dropped first, so memory does not
 * grow with the number of jobs run. Each retention has its own finish-ordered lane, so a dead
 * status kept 14 days never holds back the eviction of the succeeded ones behind it.
 *
 * Every write (enqueue, start, progress, settlement, delete) is reported to `events`, the
 * in-process status feed, when someone listens; dropping a finished status past its
 * retention is not a write and is not reported.
 *
 * @module
 */
import type { JobPayload, JobState, Settlement, StatusRecord, StoredError } from "../adapter/contract.js";
import { ConfigError } from "../errors.js";
import { StatusEvents } from "./status-events.js";

/**
 * The state a record shows at `now`: a scheduled job whose run time has come reads as
 * queued (it is due, whether or not a reserve has promoted it yet), as Redis and
 * PostgreSQL read it. Every read of a state goes through here: `get`, listings, counts.
 */
export function visibleState(record: StatusRecord, now: number): JobState {
  return record.state === "scheduled" && record.runAt.getTime() <= now ? "queued" : record.state;
}

/** Options of {@link MemoryStatusStore}. */
export interface MemoryStatusOptions {
  /** Most finished statuses kept. Default 10,000. */
  maxFinished?: number;
  /** How long a finished status is kept, in ms (a dead one too, unless `deadTtlMs` says otherwise). Default 24 h. */
  finishedTtlMs?: number;
}

/** Finished records of one retention, in finish order, consumed from `head`. */
class FinishedLane {
  // Consumed from `head`, so eviction is O(1) per job. (Evicting by iterating a Map from its
  // start is quadratic in V8: deleted entries stay as holes at the front of the table until
  // it is rehashed.)
  order: StatusRecord[] = [];
  head = 0;
  constructor(readonly ttlMs: number) {}

  /** The oldest record still held under its id, dropping entries deleted or enqueued again since. */
  first(records: Map<string, StatusRecord>): StatusRecord | undefined {
    while (this.head < this.order.length) {
      const oldest = this.order[this.head]!;
      if (records.get(oldest.id) === oldest) return oldest;
      this.head++;
    }
    return undefined;
  }

  /** Drops the first entry (after `first` returned it), compacting now and then. */
  shift(): void {
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}

/** Options of a {@link MemoryStatusStore} that does not hold the jobs themselves. */
export interface BoundedStatusOptions extends MemoryStatusOptions {
  /**
   * Most live (unfinished) statuses kept; past it the oldest enqueued is dropped and reads
   * as unknown (`null`). Default: no limit. Not for an in-memory adapter's own store, whose
   * jobs all finish here and must keep their statuses while queued.
   */
  maxLive?: number;
  /**
   * How long a dead status is kept, in ms, independent of `finishedTtlMs`. Default: as
   * `finishedTtlMs` here (the in-memory adapters keep their dead set apart); `LocalStatusStore`
   * keeps them 14 days, as long as SQS keeps a dead-letter message.
   */
  deadTtlMs?: number;
}

/** Statuses by job id, in memory. */
export class MemoryStatusStore {
  // Every status, live or finished, in one map: a finishing job changes state in place
  // instead of moving between maps (measured: the move was a tenth of a no-op drain).
  private readonly records = new Map<string, StatusRecord>();
  // Finished records by retention: succeeded and failed, and dead.
  private readonly done: FinishedLane;
  private readonly dead: FinishedLane;
  private finishedCount = 0;
  private readonly maxFinished: number;
  // With `maxLive`: live records in enqueue order, consumed from `liveHead` (as `order`), and
  // how many are live. Without it nothing is tracked: the in-memory adapters' drain path
  // pays nothing for a limit they do not have.
  private readonly maxLive: number;
  private liveOrder: StatusRecord[] = [];
  private liveHead = 0;
  private liveCount = 0;
  /** The store's status feed: ids of changed statuses, in microtask batches, while someone listens. */
  readonly events = new StatusEvents();

  constructor(options: BoundedStatusOptions = {}) {
    this.maxFinished = options.maxFinished ?? 10_000;
    const finishedTtlMs = options.finishedTtlMs ?? 86_400_000;
    const deadTtlMs = options.deadTtlMs ?? finishedTtlMs;
    if (!(deadTtlMs >= 1) || !Number.isInteger(deadTtlMs)) throw new ConfigError(`status store: deadTtlMs must be a positive integer (ms), got ${String(options.deadTtlMs)}`);
    this.done = new FinishedLane(finishedTtlMs);
    this.dead = new FinishedLane(deadTtlMs);
    this.maxLive = options.maxLive ?? Infinity;
    if (!(this.maxLive >= 1)) throw new RangeError(`maxLive must be a number ≥ 1, got ${String(options.maxLive)}`);
  }

  /**
   * Records a newly stored job (or a dead job moved back). Returns its record: a store
   * that keeps it beside the job can pass it to `started`/`settled` instead of the id and
   * save a lookup per state change (a tenth of a no-op drain, measured).
   */
  enqueued(payload: JobPayload, now: number = Date.now()): StatusRecord {
    const runAt = new Date(payload.runAt);
    this.forget(payload.id);
    const record: StatusRecord = {
      id: payload.id,
      job: payload.job,
      queue: payload.queue,
      priority: payload.priority,
      state: runAt.getTime() > now ? "scheduled" : "queued",
      executions: payload.executions,
      enqueuedAt: new Date(payload.enqueuedAt),
      runAt,
      updatedAt: new Date(now),
    };
    this.records.set(payload.id, record);
    if (this.maxLive !== Infinity) this.trackLive(record);
    this.events.changed(payload.id);
    return record;
  }

  /** The live (unfinished) record of a job, by id or as returned by `enqueued`. */
  private live(job: string | StatusRecord): StatusRecord | undefined {
    const record = typeof job === "string" ? this.records.get(job) : job;
    return record && record.finishedAt === undefined ? record : undefined;
  }

  /** Records a job handed to a worker. */
  started(job: string | StatusRecord, now: number = Date.now()): void {
    const record = this.live(job);
    if (!record) return;
    record.state = "running";
    record.executions += 1;
    record.startedAt = record.updatedAt = new Date(now);
    this.events.changed(record.id);
  }

  /** Records the latest progress of a running job. */
  progress(jobId: string, fraction: number, message?: string): void {
    const record = this.live(jobId);
    if (!record) return;
    record.progress = message === undefined ? { fraction } : { fraction, message };
    record.updatedAt = new Date();
    this.events.changed(jobId);
  }

  /** Records how a job ended (or that it was handed back). */
  settled(job: string | StatusRecord, settlement: Settlement, now: number = Date.now()): void {
    const record = this.live(job);
    if (!record) return;
    const at = new Date(now);
    record.updatedAt = at;
    this.events.changed(record.id);
    switch (settlement.outcome) {
      case "released":
        record.state = record.runAt.getTime() > now ? "scheduled" : "queued";
        record.executions = Math.max(0, record.executions - 1);
        return;
      case "retry":
        record.state = "retrying";
        record.error = settlement.error;
        record.runAt = settlement.runAt;
        record.queue = settlement.payload.queue;
        record.priority = settlement.payload.priority;
        return;
      case "succeeded":
        if (settlement.result !== undefined) record.result = settlement.result;
        this.finish(record, "succeeded", at);
        return;
      case "failed":
      case "dead":
        record.error = settlement.error;
        this.finish(record, settlement.outcome, at);
        return;
    }
  }

  /** Records a job an operator cancelled before it started: `failed` with `error`. */
  cancelled(record: StatusRecord, error: StoredError, now: number = Date.now()): void {
    if (!this.live(record)) return;
    record.error = error;
    record.updatedAt = new Date(now);
    this.events.changed(record.id);
    this.finish(record, "failed", record.updatedAt);
  }

  /** Records a scheduled or retrying job an operator made due: `queued`, its run time now. */
  madeDue(record: StatusRecord, now: number = Date.now()): void {
    if (!this.live(record)) return;
    record.state = "queued";
    record.runAt = record.updatedAt = new Date(now);
    this.events.changed(record.id);
  }

  /** Counts a new live record and drops the oldest live ones past `maxLive`. */
  private trackLive(record: StatusRecord): void {
    this.liveCount++;
    this.liveOrder.push(record);
    const order = this.liveOrder;
    while (this.liveCount > this.maxLive && this.liveHead < order.length) {
      const oldest = order[this.liveHead++]!;
      // Skipped when finished, deleted or enqueued again since (no longer the live record).
      if (this.records.get(oldest.id) === oldest && oldest.finishedAt === undefined) {
        this.records.delete(oldest.id);
        this.liveCount--;
      }
    }
    if (this.liveHead > 1024 && this.liveHead * 2 > order.length) {
      this.liveOrder = order.slice(this.liveHead);
      this.liveHead = 0;
    }
  }

  private finish(record: StatusRecord, state: JobState, at: Date): void {
    record.state = state;
    record.finishedAt = at;
    if (this.maxLive !== Infinity) this.liveCount--;
    this.finishedCount++;
    this.laneOf(state).order.push(record);
    this.evict(at.getTime());
  }

  private laneOf(state: JobState): FinishedLane {
    return state === "dead" ? this.dead : this.done;
  }

  /** Drops each lane's expired records, then the oldest finished past `maxFinished`. */
  private evict(now: number): void {
    for (const lane of [this.done, this.dead]) {
      for (let oldest = lane.first(this.records); oldest && oldest.finishedAt!.getTime() < now - lane.ttlMs; oldest = lane.first(this.records)) {
        this.drop(lane, oldest);
      }
    }
    while (this.finishedCount > this.maxFinished) {
      const [a, b] = [this.done.first(this.records), this.dead.first(this.records)];
      if (!a && !b) break;
      if (a && (!b || a.finishedAt! <= b.finishedAt!)) this.drop(this.done, a);
      else this.drop(this.dead, b!);
    }
  }

  /** Forgets `record`, the first of `lane` and the finished record held under its id. */
  private drop(lane: FinishedLane, record: StatusRecord): void {
    this.finishedCount--;
    this.records.delete(record.id);
    lane.shift();
  }

  /** A status by id, or `null`; its state as {@link visibleState} reads it. */
  get(jobId: string, now: number = Date.now()): StatusRecord | null {
    const record = this.records.get(jobId);
    if (!record) return null;
    if (record.finishedAt && record.finishedAt.getTime() < now - this.laneOf(record.state).ttlMs) return null;
    return { ...record, state: visibleState(record, now) };
  }

  /**
   * Finished records still kept (succeeded, failed, dead), in the order they finished,
   * oldest first; O(finished kept). The records themselves: copy before handing one out.
   */
  *finished(now: number = Date.now()): Generator<StatusRecord> {
    // The two lanes merged by finish time.
    const kept = (lane: FinishedLane, index: number) => {
      const record = lane.order[index]!;
      return this.records.get(record.id) === record && record.finishedAt!.getTime() >= now - lane.ttlMs;
    };
    let [i, j] = [this.done.head, this.dead.head];
    while (i < this.done.order.length || j < this.dead.order.length) {
      const a = this.done.order[i];
      const b = this.dead.order[j];
      if (a && (!b || a.finishedAt! <= b.finishedAt!)) {
        if (kept(this.done, i)) yield a;
        i++;
      } else {
        if (kept(this.dead, j)) yield b!;
        j++;
      }
    }
  }

  private forget(jobId: string): void {
    const record = this.records.get(jobId);
    if (!record) return;
    if (record.finishedAt !== undefined) this.finishedCount--;
    else if (this.maxLive !== Infinity) this.liveCount--;
    this.records.delete(jobId);
  }

  /** Forgets a job. */
  delete(jobId: string): void {
    this.forget(jobId);
    this.events.changed(jobId);
  }

  /** Number of statuses held (live and finished). */
  get size(): number {
    return this.records.size;
  }
}
