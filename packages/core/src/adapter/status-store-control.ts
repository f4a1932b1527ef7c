/**
 * The operator's side of a status store (`StatusStore.control`): what a backend that holds
 * only messages (SQS) needs to offer the operator's contract (`control.ts`) — listing jobs
 * by state, queue and class, cancel and run-now marks honoured when a message is received,
 * abort marks, paused queues, worker heartbeats and throughput per minute.
 *
 * SQS can neither list a queue's messages nor change or delete one it has not received, so
 * the store is the operator's view, and an action on a job is a mark the adapter honours the
 * next time the job's message comes in:
 *
 * - **Bodies.** The store keeps each live job's body (the payload text the message carries)
 *   beside its status, from `enqueued`, a retry's or a death's payload; a succeeded job's body
 *   is dropped. Listings return it; run-now sends it again.
 * - **Void marks.** A job id may carry a mark naming the copies of its message that must not
 *   run: all of them (`cancel`), or those whose body carries a superseded `runAt` (`runNow`:
 *   the copy sent with no delay carries `runAt` now, the delayed one it replaces the run time
 *   it was sent for). A body is the same text wherever it goes (a hop, a parked job let go,
 *   a standard queue's duplicate), and a retry's body carries its new run time, so the run
 *   time tells the copies apart with nothing added to the message.
 *   {@link StatusStoreControl.deliveries} records deliveries as `started` does and answers the
 *   void ones, which the adapter deletes unrun. A mark outlives the job's status: it is kept
 *   until its job's run time (or now) plus 14 days, SQS's longest retention, so a job
 *   cancelled a week ahead never runs; once a void copy came, the mark goes with a finished
 *   status's retention.
 * - **Abort marks** name the run (its lease token when asked) and are answered by the beat of
 *   a worker that says it runs the job, while the job's status still holds that lease; a beat
 *   drops the marks of runs that ended. Nothing is added to the settle path.
 *
 * @module
 */
import type {
  HeartbeatOptions,
  HeartbeatResult,
  JobPage,
  ListJobsOptions,
  PauseQueuesOptions,
  QueueThroughput,
  WorkerRecord,
} from "./control.js";
import type { StatusLease } from "./status-store.js";

/** How long a void mark is kept past its job's run time: SQS keeps a message at most 14 days. */
export const VOID_MARK_RETENTION_MS = 14 * 86_400_000;

/**
 * How long a status store keeps a dead status by default (`deadTtlMs`): 14 days, as long as
 * SQS keeps the job's dead-letter message, so the listing of dead jobs shows what the dead set
 * holds. Succeeded and failed statuses go with `finishedTtlMs` (24 h by default).
 */
export const DEAD_STATUS_TTL_MS = 14 * 86_400_000;

/** A delivery of a job, with the `runAt` its body carries, as written (`""` when it has none). */
export interface StatusDelivery extends StatusLease {
  runAt: string;
}

/**
 * What a status store knows of one queue, for `listQueues`. Live counts are of statuses: a
 * cancelled job whose message SQS still holds is not counted, a due scheduled job counts as
 * queued, and a retry waiting for its time as retrying.
 */
export interface StatusQueueFigures {
  queue: string;
  queued: number;
  scheduled: number;
  running: number;
  retrying: number;
  /** Succeeded statuses kept. */
  succeeded: number;
  /** Failed (discarded, cancelled) statuses kept. */
  failed: number;
  /**
   * Dead statuses kept (`deadTtlMs`): what the store lists as dead. `listQueues` on SQS
   * shows the dead-letter queue's count instead, the dead set itself; both keep 14 days.
   */
  dead: number;
  /** `runAt` (ms) of the oldest job waiting to run (queued, or scheduled and due); absent when none is. */
  oldestQueuedMs?: number;
}

/** What every worker reads at its beat and the overview shows: paused queues and throughput. */
export interface StatusControlState {
  paused: string[];
  /** Per queue that finished anything in the window, when minutes were asked for. */
  throughput?: Record<string, QueueThroughput>;
}

/** One run-now of a job: the copy it replaces, and the copy sent with no delay. */
export interface RunNowMark {
  id: string;
  /** The `runAt` the replaced copy's body carries (the stored body's), as written. */
  superseded: string;
  /** The body sent (the stored one with `runAt` now): kept as the job's body from then on. */
  body: string;
}

/** The operator's side of a status store; see the module notes. Every method is bulk. */
export interface StatusStoreControl {
  /**
   * A page of one state's jobs, or jobs by id, as {@link ListJobsOptions} orders them, with
   * their bodies while kept. On a backend without priorities, `queued` jobs are ordered by
   * queue name, then `runAt`, then id. A scheduled job whose time has come lists as queued.
   * A bad cursor is a `ConfigError`.
   */
  list(options: ListJobsOptions): Promise<JobPage>;
  /** Per queue, in order: live and finished counts, and the oldest waiting job's run time. */
  figures(queues: readonly string[]): Promise<StatusQueueFigures[]>;
  /**
   * Records deliveries as `StatusStore.started` does, except those a void mark rules out:
   * their ids are answered (in order, each once) and their statuses left as they are. The
   * adapter deletes their messages unrun.
   */
  deliveries(items: readonly StatusDelivery[]): Promise<string[]>;
  /**
   * Cancels jobs not started (`queued`, `scheduled`, `retrying`, parked or deferred by flow
   * control): status `failed` with `JobCancelledError`, a void mark for every delivery, out of
   * the flow's parked and deferred sets. Answers the ids cancelled, in the order given.
   */
  cancel(ids: readonly string[]): Promise<string[]>;
  /**
   * After the adapter sent a copy of each job with no delay: marks the copies carrying the
   * superseded `runAt` void, and makes a job still `scheduled` or `retrying` `queued` with
   * `runAt` now and the body sent. Jobs unknown to the store are left alone.
   */
  runNow(marks: readonly RunNowMark[]): Promise<void>;
  /** Marks running jobs for abort (the run named by its lease); answers the ids marked, in order. */
  abort(ids: readonly string[]): Promise<string[]>;
  /**
   * Marks running jobs for an interrupt (the run named by its lease); a run already marked
   * for abort stays so, and a later `abort` replaces the interrupt. Answers the ids marked, in order.
   */
  interrupt(ids: readonly string[]): Promise<string[]>;
  /** Pauses or resumes queues for every worker. */
  pauseQueues(options: PauseQueuesOptions): Promise<void>;
  /** Stores a worker's beat and its finished counts; answers paused queues and its marked runs. */
  heartbeat(options: HeartbeatOptions): Promise<HeartbeatResult>;
  /** Workers whose records are kept (live or gone), by id. */
  listWorkers(): Promise<WorkerRecord[]>;
  /** Paused queues, and with `throughputMinutes` each queue's runs per minute up to the current one. */
  state(throughputMinutes?: number): Promise<StatusControlState>;
}
