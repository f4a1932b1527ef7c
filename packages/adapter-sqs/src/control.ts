/**
 * The operator's contract on SQS (`capabilities.listJobs` and `control`), through the status
 * store's operator side (`StatusStore.control`): SQS can neither list a queue's messages nor
 * change or delete one before it is received, so the store is the operator's view, and an
 * action on a waiting job is a mark the adapter honours when the job's message comes in.
 *
 * - **listJobs** is the store's listing: statuses by state, queue and class, with the bodies
 *   the store keeps for live jobs. On SQS a job has no priority, so queued jobs list by queue,
 *   then run time.
 * - **cancel** marks the job in the store (failed with `JobCancelledError`, every copy void);
 *   its message is deleted unrun when it is received (`receiving.ts`).
 * - **runNow** of a scheduled or retrying job sends a copy of its stored body with `runAt`
 *   now and no delay, then marks the delayed copy void by the `runAt` it carries: when it
 *   comes, it is deleted unrun. Sent first, marked after: if the mark fails, both copies run
 *   (at least once, never zero times). On FIFO queues a retrying job waits as a hidden message
 *   to keep its group's order, which no new copy may overtake: runNow is refused there with an
 *   `UnsupportedError` naming the jobs (other jobs, which it would leave alone, are no error).
 * - **abort**, **interrupt**, **pauses**, **beats**, **workers**, **throughput**: kept by the store as the
 *   Redis adapter keeps them (`HeartbeatOptions`).
 * - **listQueues** takes its live counts from the statuses (queued, scheduled, running,
 *   retrying): SQS's approximate attributes (up to a minute behind on AWS) would count a
 *   cancelled job until a worker has seen its message, and cannot tell a retry from a
 *   scheduled job. It adds succeeded and failed statuses kept, the oldest waiting job's latency,
 *   paused queues (listed even without an SQS queue) and throughput. `dead` stays the
 *   dead-letter queue's count: the dead set is that queue (14 days), and the store keeps dead
 *   statuses as long (`deadTtlMs`, 14 days by default), so the dead listing shows those jobs.
 *
 * @module
 */
import {
  ConfigError,
  UnsupportedError,
  groupBy,
  type ChangeJobsOptions,
  type HeartbeatOptions,
  type HeartbeatResult,
  type JobPage,
  type JobPayload,
  type ListedJob,
  type ListJobsOptions,
  type PauseQueuesOptions,
  type QueueInfo,
  type RunNowMark,
  type StatusStoreControl,
  type WorkerRecord,
} from "@errand/core/adapter";

import type { QueueMap } from "./queues.js";
import type { OutgoingMessage, Sender } from "./sending.js";

const ACTIONS = new Set(["cancel", "runNow", "abort", "interrupt"]);

/** What the operator's side needs of its adapter. */
export interface SqsControlOptions {
  store: StatusStoreControl;
  queues: QueueMap;
  sender: Sender;
  fifo: boolean;
}

/** The operator's contract of one SQS adapter; see the module notes. */
export class SqsControl {
  constructor(private readonly options: SqsControlOptions) {}

  /** A page of jobs from the store's listing (`Adapter.listJobs`). */
  listJobs(options: ListJobsOptions): Promise<JobPage> {
    if ("ids" in options && (!Array.isArray(options.ids) || options.ids.some((id) => typeof id !== "string"))) {
      return Promise.reject(new ConfigError("sqs adapter: listJobs ids must be strings"));
    }
    return this.options.store.list(options);
  }

  /** Cancel, run now, abort or interrupt (`Adapter.changeJobs`); answers the ids it applied to, in order. */
  async changeJobs({ action, ids }: ChangeJobsOptions): Promise<string[]> {
    if (!ACTIONS.has(action)) throw new ConfigError(`sqs adapter: changeJobs action must be cancel, runNow, abort or interrupt, got ${JSON.stringify(action)}`);
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string" || id === "")) throw new ConfigError("sqs adapter: changeJobs ids must be non-empty strings");
    if (ids.length === 0) return [];
    const { store } = this.options;
    if (action === "cancel") return store.cancel(ids);
    if (action === "abort") return store.abort(ids);
    if (action === "interrupt") return store.interrupt(ids);
    return this.runNow(ids);
  }

  /** Sends a copy due now of each scheduled or retrying job, then voids the delayed copies. */
  private async runNow(ids: readonly string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    const { jobs } = await this.options.store.list({ ids: unique });
    const waiting = jobs.filter((job): job is ListedJob & { body: string } => (job.state === "scheduled" || job.state === "retrying") && job.body !== undefined);
    if (waiting.length === 0) return [];
    if (this.options.fifo) {
      throw new UnsupportedError(
        `sqs adapter: runNow is refused on FIFO queues: ${waiting.map((job) => `${job.job} ${job.id}`).join(", ")} ${waiting.length === 1 ? "waits" : "wait"} out ` +
          "a retry's backoff as a hidden message, which keeps its group in order; a copy sent now would overtake the group (cancel it and enqueue it again instead)",
      );
    }
    const now = Date.now();
    const copies: { mark: RunNowMark; message: OutgoingMessage }[] = [];
    for (const job of waiting) {
      let payload: JobPayload;
      try {
        payload = JSON.parse(job.body) as JobPayload;
      } catch {
        continue; // not wire format: a worker buries it when its copy comes
      }
      const body = JSON.stringify({ ...payload, runAt: new Date(now).toISOString() });
      copies.push({ mark: { id: job.id, superseded: typeof payload.runAt === "string" ? payload.runAt : "", body }, message: { payload, body, runAtMs: now } });
    }
    const sent = new Set<string>();
    let failure: unknown;
    await Promise.all(
      [...groupBy(copies, (copy) => copy.message.payload.queue)].map(async ([name, group]) => {
        try {
          await this.options.sender.send((await this.options.queues.get(name)).url, group.map((copy) => copy.message));
          for (const copy of group) sent.add(copy.mark.id);
        } catch (error) {
          failure ??= error;
          const refused = new Set((error as { refusedIds?: string[] }).refusedIds ?? group.map((copy) => copy.mark.id));
          for (const copy of group) if (!refused.has(copy.mark.id)) sent.add(copy.mark.id);
        }
      }),
    );
    // Marked after the send: a failed mark leaves both copies to run, never none.
    await this.options.store.runNow(copies.filter((copy) => sent.has(copy.mark.id)).map((copy) => copy.mark));
    if (failure) throw failure;
    return unique.filter((id) => sent.has(id));
  }

  /** Pauses or resumes queues for every worker (`Adapter.pauseQueues`). */
  async pauseQueues({ queues, paused }: PauseQueuesOptions): Promise<void> {
    if (!Array.isArray(queues) || queues.some((queue) => typeof queue !== "string" || queue === "")) throw new ConfigError("sqs adapter: pauseQueues queues must be non-empty strings");
    if (typeof paused !== "boolean") throw new ConfigError(`sqs adapter: pauseQueues paused must be true or false, got ${JSON.stringify(paused)}`);
    await this.options.store.pauseQueues({ queues, paused });
  }

  /** Stores a worker's beat; answers paused queues and its runs to abort or interrupt (`Adapter.heartbeat`). */
  heartbeat(options: HeartbeatOptions): Promise<HeartbeatResult> {
    return this.options.store.heartbeat(options);
  }

  /** Workers whose records the store keeps (`Adapter.listWorkers`). */
  listWorkers(): Promise<WorkerRecord[]> {
    return this.options.store.listWorkers();
  }

  /**
   * Adds the store's figures to SQS's counts (in place), and paused queues SQS has no queue
   * for; with `throughputMinutes`, each queue's throughput (zeros for one that finished nothing).
   */
  async addTo(infos: QueueInfo[], throughputMinutes: number | undefined): Promise<QueueInfo[]> {
    const { store } = this.options;
    const state = await store.state(throughputMinutes);
    const known = new Set(infos.map((info) => info.name));
    for (const queue of state.paused) {
      if (!known.has(queue)) infos.push({ name: queue, queued: 0, scheduled: 0, running: 0, retrying: 0, dead: 0 });
    }
    const figures = await store.figures(infos.map((info) => info.name));
    const paused = new Set(state.paused);
    const now = Date.now();
    infos.forEach((info, i) => {
      const f = figures[i]!;
      // Live counts from the statuses: exact, without the cancelled jobs whose messages SQS
      // still holds, retries told from scheduled jobs. `dead` stays the dead-letter queue's.
      Object.assign(info, { queued: f.queued, scheduled: f.scheduled, running: f.running, retrying: f.retrying });
      info.succeeded = f.succeeded;
      info.failed = f.failed;
      info.latencyMs = info.queued > 0 && f.oldestQueuedMs !== undefined ? Math.max(0, now - f.oldestQueuedMs) : 0;
      info.paused = paused.has(info.name);
      if (throughputMinutes !== undefined) {
        const first = Math.floor(now / 60_000) - throughputMinutes + 1;
        info.throughput = state.throughput?.[info.name] ?? { since: new Date(first * 60_000), succeeded: new Array<number>(throughputMinutes).fill(0), failed: new Array<number>(throughputMinutes).fill(0) };
      }
    });
    return infos;
  }
}
