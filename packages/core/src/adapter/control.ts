/**
 * The operator's part of the adapter contract: listing jobs, acting on them (cancel, run
 * now, abort, interrupt), pausing queues, and the worker heartbeats that carry pauses,
 * aborts and interrupts to every worker. `contract.ts` re-exports it. What dashboards and the CLI stand on.
 *
 * Two capabilities gate it, so backends land one at a time:
 *
 * - `listJobs`: {@link Adapter.listJobs}, and `QueueInfo`'s optional counts
 *   (`succeeded`, `failed`, `latencyMs`).
 * - `control`: {@link Adapter.changeJobs}, {@link Adapter.pauseQueues},
 *   {@link Adapter.heartbeat}, {@link Adapter.listWorkers}, and `QueueInfo`'s `paused` and
 *   `throughput`.
 *
 * Core decides, adapters store. A worker beats every `HEARTBEAT_INTERVAL_MS` (core): the
 * beat stores what the worker is doing and reads back what the operator asked for (paused
 * queues, aborts and interrupts of the jobs it runs). Core leaves paused queues out of its
 * reserves and aborts or interrupts the jobs named; the adapter only keeps the records. Throughput per minute is
 * counted by the workers and added up by the adapter at each beat, so no backend counts on
 * its settle path.
 *
 * @module
 */
import type { JobState, StatusRecord } from "./status.js";

/** Most jobs one {@link Adapter.listJobs} page holds. */
export const MAX_LIST_LIMIT = 500;

/**
 * Options of {@link Adapter.listJobs}: one state's jobs, optionally of one queue and one
 * job class, a page at a time; or jobs by id, in whatever state they are.
 *
 * Order within a state (stable across pages; a job that stays in the state while an
 * operator pages is listed once and none is skipped):
 *
 * | state | order |
 * | --- | --- |
 * | `queued` | by queue name, then the order a reserve takes them (priority, then oldest) |
 * | `scheduled`, `retrying` | by `runAt`, soonest first, then job id |
 * | `running` | by job id (oldest enqueued first) |
 * | `succeeded`, `failed`, `dead` | newest finished first |
 */
export type ListJobsOptions =
  | {
      state: JobState;
      /** Only jobs of this queue (prefix applied). */
      queue?: string;
      /** Only jobs of this registered job class name. */
      job?: string;
      /** Opaque: a previous page's `next`, with the same `state`, `queue` and `job`. */
      cursor?: string;
      /** Most jobs to return, 1 to {@link MAX_LIST_LIMIT}. Core passes it; default 50. */
      limit: number;
    }
  | {
      /** Jobs by Errand id, in any state, in the order given; unknown or expired ids are left out. */
      ids: string[];
    };

/** One job as {@link Adapter.listJobs} returns it: its status, and its payload while the backend holds it. */
export interface ListedJob extends StatusRecord {
  /**
   * The stored payload text, exactly as stored (what a worker would run), while the backend
   * still holds it; absent once it is gone (a finished job whose body the backend dropped,
   * or a job known only by its status).
   */
  body?: string;
}

/** A page of jobs. */
export interface JobPage {
  jobs: ListedJob[];
  /** Cursor of the next page; absent when this page is the last. */
  next?: string;
}

/**
 * What {@link Adapter.changeJobs} does to each job named.
 *
 * - `cancel`: a job not yet started (`queued`, `scheduled`, `retrying`, including one held
 *   back by a concurrency or rate limit) is taken out of its queue for good and its status
 *   becomes `failed` with the error `{ name: "JobCancelledError", code: "ERR_JOB_CANCELLED" }`.
 *   A unique key it held no longer blocks (a failed holder never does). Running and finished
 *   jobs are left alone.
 * - `runNow`: a `scheduled` or `retrying` job becomes due now (`queued`, `runAt` now), its
 *   payload otherwise unchanged. Others are left alone.
 * - `abort`: a `running` job is marked: the next beat of the worker running it returns the
 *   id in `abort`, and core aborts the job's `signal`. The mark is dropped when the job
 *   settles (and by the backend after an hour at most). Others are left alone.
 * - `interrupt`: what a deploy's SIGTERM does, for one job. A `running` job is marked as for
 *   `abort`, with the kind `interrupt`: the next beat returns the id in `interrupt`. Core
 *   stops a resumable job at its next checkpoint and re-enqueues it with its progress (a
 *   resumption); a plain job's `signal` aborts with `JobInterruptRequestedError` and, unless
 *   it finishes anyway, it is handed back (`released`) to run again from the start. A mark
 *   keeps its kind; a later `abort` of the same run turns it into an abort mark (abort wins),
 *   a later `interrupt` of an abort-marked run leaves it an abort. Others are left alone.
 */
export type JobAction = "cancel" | "runNow" | "abort" | "interrupt";

/** Options of {@link Adapter.changeJobs}. */
export interface ChangeJobsOptions {
  action: JobAction;
  /** Errand job ids. */
  ids: string[];
}

/** Options of {@link Adapter.pauseQueues}. */
export interface PauseQueuesOptions {
  /** Queue names, prefix applied. */
  queues: string[];
  /** True to pause, false to resume. */
  paused: boolean;
}

/** A job a worker is running, as its heartbeat reports it. */
export interface RunningJobInfo {
  id: string;
  job: string;
  queue: string;
  startedAt: Date;
}

/** What a worker reports of itself at each beat. */
export interface WorkerInfo {
  /** The worker's id (unique per worker; a process may run several). */
  id: string;
  host: string;
  pid: number;
  /** Adapter name ("postgres"), for display. */
  adapter: string;
  /** The queues it takes from, as configured (`"critical,2 default,1"` or `"*"`). */
  queues: string;
  concurrency: number;
  startedAt: Date;
  /** The jobs it runs now. */
  running: RunningJobInfo[];
}

/** Jobs of one queue finished by a worker since its previous beat. */
export interface FinishedCount {
  queue: string;
  /** Runs that succeeded. */
  succeeded: number;
  /** Runs that ended in an error (retried, discarded or dead). */
  failed: number;
}

/** Options of {@link Adapter.heartbeat}. */
export interface HeartbeatOptions {
  worker: WorkerInfo;
  /**
   * The beat's time on the worker's clock. Stored as the worker's `lastBeatAt`, and the
   * minute `finished` is added to (UTC minutes since the epoch).
   */
  at: Date;
  /**
   * A worker without a beat for this long is gone (listed as such). The backend keeps a
   * gone worker's record for at least an hour after its last beat, then may drop it.
   */
  ttlMs: number;
  /** Runs finished since the previous beat, per queue: added to the minute of `at`. */
  finished: FinishedCount[];
  /** The worker is stopping: store `finished`, then remove its record. */
  stopping?: boolean;
}

/** What a beat reads back. */
export interface HeartbeatResult {
  /** Every paused queue. */
  paused: string[];
  /** Ids among `worker.running` marked by `changeJobs({ action: "abort" })`. */
  abort: string[];
  /** Ids among `worker.running` marked by `changeJobs({ action: "interrupt" })` (and not since by an abort). */
  interrupt: string[];
}

/** A worker as {@link Adapter.listWorkers} returns it. */
export interface WorkerRecord extends WorkerInfo {
  /** `at` of its last beat. */
  lastBeatAt: Date;
  /** Its `ttlMs`. The reader decides it is gone when `lastBeatAt + ttlMs` has passed. */
  ttlMs: number;
}

/** Options of {@link Adapter.listWorkers}. */
export type ListWorkersOptions = Record<string, never>;

/** Throughput of one queue: runs finished per minute, oldest minute first. */
export interface QueueThroughput {
  /** UTC minute (ms since the epoch) of the first entry. */
  since: Date;
  succeeded: number[];
  failed: number[];
}
