/**
 * The operator's side of core's in-memory store (`capabilities.control`, the contract in
 * adapter/control.ts): cancelling jobs, running them now, aborting or interrupting running
 * ones, pausing queues, and the workers' heartbeats that carry pauses, aborts and interrupts
 * back to every worker.
 *
 * What it keeps, besides the store's jobs:
 *
 * - *paused queues*: a queue is paused from `pauseQueues({ paused: true })` until
 *   `pauseQueues({ paused: false })`. Every beat reads the set back; `listQueues` marks them
 *   and lists them even when empty. Core leaves them out of its reserves.
 * - *marks*: job id → the start time of the run that was marked, and the mark's kind
 *   (`abort` or `interrupt`; an abort of a run marked for an interrupt makes it an abort
 *   mark, an interrupt of an abort-marked run leaves it one). A mark holds while
 *   the job's status is `running` with that start time, so it lapses by itself when the job
 *   settles (any outcome), when its lease ran out and another run started, or an hour after
 *   it was made. A settlement of the marked run drops it too (`settled`, one check of the
 *   map's size while none is kept): a run handed back and taken again within the same
 *   millisecond (an interrupted job, whose worker reserves again at once) starts at the same
 *   time, and would otherwise inherit the mark. Lapsed marks are dropped at the next beat or
 *   mark.
 * - *workers*: id → the record of its last beat. A beat with `stopping` removes it; one
 *   that stopped beating is kept an hour past its `ttlMs` (listed, and shown gone by the
 *   reader), then dropped at a beat or a listing.
 * - *throughput*: the finished counts beats bring, per queue and minute (throughput.ts).
 *
 * Cancel and run now take waiting jobs out of wherever they wait in the store (`withdraw`)
 * and run now puts them back (`putBack`): O(jobs held) per call, and nothing added to
 * reserve or settle.
 *
 * @module
 */
import type {
  ChangeJobsOptions,
  HeartbeatOptions,
  HeartbeatResult,
  JobAction,
  JobState,
  PauseQueuesOptions,
  Settlement,
  StatusRecord,
  StoredError,
  WorkerRecord,
} from "../adapter/contract.js";
import { ConfigError, JobCancelledError } from "../errors.js";
import { peekJobId } from "../wire-format.js";
import type { Entry } from "./entry.js";
import { visibleState } from "./status.js";
import type { MemoryStore } from "./store.js";
import { Throughput } from "./throughput.js";

/** How long a mark or a gone worker's record is kept at most: an hour (the contract's bound). */
const KEPT_MS = 3_600_000;

const ACTIONS: readonly JobAction[] = ["cancel", "runNow", "abort", "interrupt"];
const DUE_LATER: ReadonlySet<JobState> = new Set(["scheduled", "retrying"]);

/** The error a cancelled job's status carries: core's `JobCancelledError`, as stored. */
function cancelledError(): StoredError {
  const error = new JobCancelledError();
  return { name: error.name, code: error.code, message: error.message };
}

/** Pauses, abort marks, workers and throughput of one in-memory store. */
export class MemoryControl {
  private readonly paused = new Set<string>();
  private readonly marks = new Map<string, { startedAtMs: number; markedAt: number; kind: "abort" | "interrupt" }>();
  private readonly workers = new Map<string, WorkerRecord>();
  /** Runs finished per queue and minute, from the beats. */
  readonly throughput = new Throughput();

  constructor(private readonly store: MemoryStore) {}

  /**
   * Forgets pauses, abort marks and throughput: a test's operator state does not reach the
   * next test. Workers stay: a running worker's record is its own, removed when it stops.
   */
  clear(): void {
    this.paused.clear();
    this.marks.clear();
    this.throughput.clear();
  }

  /** Cancels, runs now, aborts or interrupts jobs; returns the ids the action applied to, in the order given. */
  changeJobs({ action, ids }: ChangeJobsOptions, now: number = Date.now()): string[] {
    if (!ACTIONS.includes(action)) throw new ConfigError(`changeJobs: action must be one of ${ACTIONS.join(", ")}, got ${JSON.stringify(action)}`);
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) throw new ConfigError("changeJobs: ids must be an array of job ids (strings)");
    const wanted = new Set(ids);
    let applied: ReadonlySet<string>;
    if (action === "cancel") applied = this.cancel(wanted, now);
    else if (action === "runNow") applied = this.runNow(wanted, now);
    else applied = this.mark(wanted, action, now);
    return [...new Set(ids)].filter((id) => applied.has(id));
  }

  /** Takes waiting jobs (queued, scheduled, retrying; parked and deferred too) out for good: `failed`, `JobCancelledError`. */
  private cancel(wanted: ReadonlySet<string>, now: number): Set<string> {
    const error = cancelledError();
    const cancelled = this.withdraw((entry) => wanted.has(entry.jobId) && typeof entry.status !== "string");
    for (const entry of cancelled) this.store.statuses.cancelled(entry.status as StatusRecord, error, now);
    this.store.batches.cancelled(cancelled, now);
    return new Set(cancelled.map((entry) => entry.jobId));
  }

  /** Makes scheduled and retrying jobs due now: queued, `runAt` now in their status and body. */
  private runNow(wanted: ReadonlySet<string>, now: number): Set<string> {
    const moved = this.withdraw(
      (entry) => wanted.has(entry.jobId) && typeof entry.status !== "string" && DUE_LATER.has(visibleState(entry.status, now)),
    );
    const runAt = new Date(now).toISOString();
    for (const entry of moved) {
      entry.runAtMs = now;
      entry.body = withRunAt(entry.body, runAt);
      this.store.statuses.madeDue(entry.status as StatusRecord, now);
    }
    this.putBack(moved);
    return new Set(moved.map((entry) => entry.jobId));
  }

  /**
   * Takes the waiting jobs `pick` chooses out of wherever they wait in the store (ready,
   * scheduled, parked, deferred) and returns them; leased jobs are never offered. O(jobs
   * held); {@link putBack} stores them again.
   */
  private withdraw(pick: (entry: Entry) => boolean): Entry[] {
    const { waiting, gate } = this.store;
    const chosen = new Set<Entry>();
    for (const entry of waiting.values()) if (pick(entry)) chosen.add(entry);
    for (const entry of gate.waiting()) if (pick(entry)) chosen.add(entry);
    if (chosen.size === 0) return [];
    waiting.remove(chosen);
    gate.withdraw(chosen);
    return [...chosen];
  }

  /** Stores withdrawn jobs again by their (possibly changed) run time, and wakes waiting reserves. */
  private putBack(entries: readonly Entry[]): void {
    const now = Date.now();
    for (const entry of entries) this.store.waiting.place(entry, now);
    if (entries.length > 0) this.store.wakeAll();
  }

  /** Marks running jobs for an abort or an interrupt; the beats of the workers running them return their ids. */
  private mark(wanted: ReadonlySet<string>, kind: "abort" | "interrupt", now: number): Set<string> {
    this.dropLapsedMarks(now);
    const marked = new Set<string>();
    for (const id of wanted) {
      const status = this.store.statuses.get(id, now);
      if (status?.state !== "running" || status.startedAt === undefined) continue;
      const startedAtMs = status.startedAt.getTime();
      const mark = this.marks.get(id);
      if (mark?.startedAtMs !== startedAtMs) this.marks.set(id, { startedAtMs, markedAt: now, kind });
      else if (kind === "abort") mark.kind = "abort";
      marked.add(id);
    }
    return marked;
  }

  /** Whether `jobId`'s mark still holds: the run that was marked is still running, and the mark is under an hour old. */
  private marked(jobId: string, now: number): boolean {
    const mark = this.marks.get(jobId);
    if (mark === undefined) return false;
    const status = this.store.statuses.get(jobId, now);
    if (status?.state === "running" && status.startedAt?.getTime() === mark.startedAtMs && mark.markedAt + KEPT_MS > now) return true;
    this.marks.delete(jobId);
    return false;
  }

  private dropLapsedMarks(now: number): void {
    for (const jobId of [...this.marks.keys()]) this.marked(jobId, now);
  }

  /** Drops the marks of the runs these applied settlements ended (the store's `settle` answer). */
  settled(applied: readonly Settlement[]): void {
    if (this.marks.size === 0) return;
    for (const settlement of applied) {
      const jobId = peekJobId(settlement.reservation.body);
      if (jobId !== undefined) this.marks.delete(jobId);
    }
  }

  /** Pauses or resumes queues. */
  pauseQueues({ queues, paused }: PauseQueuesOptions): void {
    if (!Array.isArray(queues) || queues.some((name) => typeof name !== "string" || name === "")) {
      throw new ConfigError("pauseQueues: queues must be an array of queue names (non-empty strings)");
    }
    if (typeof paused !== "boolean") throw new ConfigError(`pauseQueues: paused must be true or false, got ${JSON.stringify(paused)}`);
    for (const name of queues) {
      if (paused) this.paused.add(name);
      else this.paused.delete(name);
    }
  }

  /** Whether a queue is paused. */
  isPaused(queue: string): boolean {
    return this.paused.has(queue);
  }

  /** Queues listed even without jobs: the paused ones, and those with finished runs counted in the last 24 h. */
  knownQueues(now: number): Set<string> {
    return new Set([...this.paused, ...this.throughput.names(now)]);
  }

  /** Stores a worker's beat and its finished counts; reads back the paused queues and its jobs' aborts and interrupts. */
  heartbeat(options: HeartbeatOptions, now: number = Date.now()): HeartbeatResult {
    checkBeat(options);
    const { worker, at, ttlMs, finished, stopping } = options;
    this.throughput.add(at.getTime(), finished, now);
    if (stopping) this.workers.delete(worker.id);
    else this.workers.set(worker.id, { ...worker, running: worker.running.map((job) => ({ ...job })), lastBeatAt: new Date(at), ttlMs });
    this.dropGoneWorkers(now);
    this.dropLapsedMarks(now);
    return {
      paused: [...this.paused].sort(),
      abort: worker.running.filter((job) => this.marks.get(job.id)?.kind === "abort").map((job) => job.id),
      interrupt: worker.running.filter((job) => this.marks.get(job.id)?.kind === "interrupt").map((job) => job.id),
    };
  }

  /** Every worker record kept, live or gone, by id. */
  listWorkers(now: number = Date.now()): WorkerRecord[] {
    this.dropGoneWorkers(now);
    return [...this.workers.values()]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((record) => ({ ...record, running: record.running.map((job) => ({ ...job })), startedAt: new Date(record.startedAt), lastBeatAt: new Date(record.lastBeatAt) }));
  }

  private dropGoneWorkers(now: number): void {
    for (const [id, record] of this.workers) if (record.lastBeatAt.getTime() + record.ttlMs + KEPT_MS < now) this.workers.delete(id);
  }
}

/** The body with its `runAt` replaced; a body that is not a JSON object stays as it is. */
function withRunAt(body: string, runAt: string): string {
  try {
    const payload: unknown = JSON.parse(body);
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return body;
    return JSON.stringify({ ...payload, runAt });
  } catch {
    return body;
  }
}

function checkBeat(options: HeartbeatOptions): void {
  const { worker, at, ttlMs, finished } = options;
  if (typeof worker !== "object" || worker === null || typeof worker.id !== "string" || worker.id === "") {
    throw new ConfigError("heartbeat: worker must be a WorkerInfo with a non-empty id");
  }
  if (!Array.isArray(worker.running)) throw new ConfigError("heartbeat: worker.running must be an array of running jobs");
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new ConfigError("heartbeat: at must be a valid Date");
  if (typeof ttlMs !== "number" || !(ttlMs > 0) || !Number.isFinite(ttlMs)) throw new ConfigError(`heartbeat: ttlMs must be a positive number of ms, got ${JSON.stringify(ttlMs)}`);
  if (!Array.isArray(finished)) throw new ConfigError("heartbeat: finished must be an array of { queue, succeeded, failed }");
  for (const count of finished) {
    const valid = typeof count?.queue === "string" && [count.succeeded, count.failed].every((n) => Number.isInteger(n) && n >= 0);
    if (!valid) throw new ConfigError(`heartbeat: finished holds ${JSON.stringify(count)}; expected { queue, succeeded, failed } with counts ≥ 0`);
  }
}
