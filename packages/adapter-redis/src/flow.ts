/**
 * Flow control in the Redis adapter, the parts that are not on the plain hot path: storing
 * batches that carry `flow` (`enqueue-flow.lua`: unique and recurring decisions, in order, in
 * the step that stores the jobs), the safety sweep of parked jobs (`flow-sweep.lua`), and
 * `recurringState`. Enforcement at reserve, settle, lease expiry and extension is in the hot
 * path's scripts, behind the flow fields of a job's hash (`keys.ts` lists the keys).
 *
 * Sweep state: idle until a reserve runs; then at most one sweep per `SWEEP_MS` per adapter,
 * started by the reserve that finds the interval over (the next is due `SWEEP_MS` after that
 * one started, whether it found work or not). Only on a standalone Redis, where concurrency
 * limits exist.
 *
 * @module
 */
import type { EnqueueResult, JobPayload, RecurringRecord } from "@errand/core/adapter";
import { groupBy } from "@errand/core/adapter";
import type { ChainableCommander, Cluster, Redis } from "ioredis";

import type { KeyLayout } from "./keys.js";
import { compactBody, flowFields } from "./body.js";
import { countedBatch } from "./enqueuing.js";
import { queueScript, runScript } from "./scripts.js";

/**
 * How often a reserving adapter runs the safety sweep, in ms. Settles and lease expiries
 * un-park jobs as slots free; the sweep only catches what they missed (a holder whose queue
 * nobody reserves from any more), so a parked job waits at most about this long then.
 */
const SWEEP_MS = 1000;
/** Keys looked at and jobs un-parked per sweep: bounded so one call stays short. */
const SWEEP_KEYS = 100;
const SWEEP_JOBS = 1000;
/** Jobs per enqueue-flow call, as for enqueue.lua. */
const MAX_BATCH = 1000;

/** Whether a payload needs the flow path (a plain payload costs this one test). */
export function hasFlow(job: JobPayload): boolean {
  return job.flow !== undefined;
}

/**
 * Appends the arguments of one job of `enqueue-flow.lua` to `args`: seven fields, then `parts`
 * (a letter per flow part present, `b` for the batch it is counted in) and each part's own arguments, so a unique job sends 11
 * where every job sent 18 before, "" for each part absent (see the script); `move` for a
 * retry moved between queues.
 */
function pushJobArgs(args: (string | number)[], job: JobPayload, move: boolean): void {
  const { unique, concurrency, rateLimit, recurring } = job.flow ?? {};
  const enqueuedAt = Date.parse(job.enqueuedAt);
  const runAt = Date.parse(job.runAt);
  const at = args.length;
  // The record gets the flow fields from the same payload (enqueue-flow.lua), so the body may leave `flow` out.
  const body = compactBody(job, { id: job.id, queue: job.queue, job: job.job, priority: job.priority, enqueuedAt, runAt, flow: flowFields(job.flow) });
  args.push(job.id, job.queue, body, job.job, job.priority, runAt, enqueuedAt, "");
  let parts = "";
  if (unique) {
    parts += "u";
    args.push(unique.key, unique.while, unique.forMs === undefined ? "" : enqueuedAt + unique.forMs);
  }
  if (concurrency) {
    parts += "c";
    args.push(concurrency.key, concurrency.limit);
  }
  if (rateLimit) {
    parts += "r";
    args.push(rateLimit.key, rateLimit.limit, rateLimit.perMs);
  }
  if (recurring) {
    parts += "t";
    args.push(recurring.task, Date.parse(recurring.tick));
  }
  const batch = countedBatch(job);
  if (batch !== undefined) {
    parts += "b";
    args.push(batch);
  }
  if (move) parts += "m";
  args[at + 7] = parts;
}

/** The flow steps of one Redis adapter. */
export class Flow {
  private nextSweep = 0;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly keys: KeyLayout,
    private readonly statusChannel: string,
  ) {}

  /**
   * Stores a batch of which some jobs carry flow, deciding duplicates in order. On a
   * standalone Redis the whole batch goes in order, `MAX_BATCH` jobs per call, pipelined on
   * one connection (so in order too); on a Cluster one queue's jobs per call and per
   * pipeline, which a Cluster client sends to the queue's node (their keys share a slot; no
   * job there carries unique, the one decision that spans queues). With `move`, the jobs
   * are retries moved between queues by a retry rule: stored without deciding (see the script).
   * `checks`: the batches every call checks first (`batchChecks` of the whole enqueue).
   */
  async enqueue(jobs: readonly JobPayload[], checks: readonly string[], move = false): Promise<EnqueueResult[]> {
    const positions = jobs.map((_, index) => index);
    const groups = this.client.isCluster ? [...groupBy(positions, (index) => jobs[index]!.queue).values()] : [positions];
    const duplicateOf: (string | undefined)[] = [];
    await Promise.all(groups.map((group) => this.enqueueGroup(group.map((index) => jobs[index]!), group, duplicateOf, checks, move)));
    return jobs.map((job, index) => {
      const holder = duplicateOf[index];
      return holder === undefined ? { jobId: job.id, providerJobId: job.id } : { jobId: holder, providerJobId: holder, duplicate: true };
    });
  }

  /** Stores `jobs` (at `positions` of the batch) in one pipeline; notes duplicates in `duplicateOf`. */
  private async enqueueGroup(jobs: readonly JobPayload[], positions: readonly number[], duplicateOf: (string | undefined)[], checks: readonly string[], move: boolean): Promise<void> {
    const pipeline = this.client.pipeline();
    for (let start = 0; start < jobs.length; start += MAX_BATCH) this.queueEnqueue(pipeline, jobs.slice(start, start + MAX_BATCH), checks, move);
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error);
    if (failed) throw failed[0];
    let index = 0;
    for (const [, reply] of replies) {
      for (const holder of reply as string[]) {
        if (holder !== "") duplicateOf[positions[index]!] = holder;
        index++;
      }
    }
  }

  private queueEnqueue(pipeline: ChainableCommander, chunk: readonly JobPayload[], checks: readonly string[], move: boolean): void {
    const args: (string | number)[] = [this.keys.base, this.statusChannel, checks.length / 2, ...checks];
    for (const job of chunk) pushJobArgs(args, job, move);
    queueScript(pipeline, "enqueue-flow", [this.keys.queue(chunk[0]!.queue).scheduled], args);
  }

  /** Runs the safety sweep when it is due (see the module's state). */
  async sweepIfDue(): Promise<void> {
    const now = Date.now();
    if (now < this.nextSweep) return;
    this.nextSweep = now + SWEEP_MS;
    await this.sweep();
  }

  /** One pass of the safety sweep (`flow-sweep.lua`); answers how many jobs it un-parked. */
  async sweep(): Promise<number> {
    return Number(await runScript<number>(this.client, "flow-sweep", [this.keys.parkedKeys], [this.keys.base, SWEEP_KEYS, SWEEP_JOBS]));
  }

  /**
   * Each task's last stored tick, from the `recurring` hash of every known queue (one HMGET
   * per queue, sent together): the latest tick found wins.
   */
  async recurringState(tasks: readonly string[], queues: readonly string[]): Promise<(RecurringRecord | null)[]> {
    if (tasks.length === 0) return [];
    const replies = await Promise.all(queues.map((queue) => this.client.hmget(this.keys.queue(queue).recurring, ...tasks)));
    return tasks.map((task, index) => {
      let best: RecurringRecord | null = null;
      for (const reply of replies) {
        const value = reply[index];
        if (!value) continue;
        const space = value.indexOf(" ");
        const lastTick = Number(value.slice(0, space));
        if (!best || lastTick > best.lastTick.getTime()) best = { task, lastTick: new Date(lastTick), jobId: value.slice(space + 1) };
      }
      return best;
    });
  }
}
