/**
 * Storing one queue's jobs without flow control: each job's compact body (`body.ts`) and
 * its index entries go in one `enqueue` script per `MAX_BATCH` jobs, the scripts of a larger
 * batch pipelined. The script wakes waiting reserves and publishes the statuses.
 *
 * A script call carries the jobs of one batch (`payload.batch`, `lua/batch-lib.lua`) or of
 * none, so the batch goes once per call rather than once per job: the jobs are cut into
 * runs of consecutive jobs of the same batch, in order (a `batch()` call sends one run).
 *
 * @module
 */
import type { JobPayload } from "@errand/core/adapter";
import type { Cluster, Redis } from "ioredis";

import { compactBody } from "./body.js";
import type { KeyLayout } from "./keys.js";
import { queueScript, runScript } from "./scripts.js";

/** Jobs per enqueue script call: bounded so one script stays short. */
const MAX_BATCH = 1000;

/** Where a queue's jobs are stored. */
export interface EnqueueTarget {
  client: Redis | Cluster;
  keys: KeyLayout;
  /** The status channel, `""` when statuses are not published. */
  statusChannel: string;
}

/** The batch a job is counted in: its `batch.id`, unless it is a callback (counted in none). */
export function countedBatch(job: JobPayload): string | undefined {
  return job.batch !== undefined && job.batch.callback === undefined ? job.batch.id : undefined;
}

/**
 * The batches an enqueue names, each with the id of a job naming it, flat (`[batch, job, …]`):
 * every script of the enqueue checks them all first, so an unknown batch refuses the whole
 * enqueue, whatever queue or chunk names it (`lua/enqueue.lua`).
 */
export function batchChecks(jobs: readonly JobPayload[]): string[] {
  const checks: string[] = [];
  let seen: Set<string> | undefined;
  for (const job of jobs) {
    const batch = countedBatch(job);
    if (batch === undefined || seen?.has(batch)) continue;
    (seen ??= new Set()).add(batch);
    checks.push(batch, job.id);
  }
  return checks;
}

/** Consecutive jobs of one batch (or of none), at most `MAX_BATCH`, in order. */
function runsOf(jobs: readonly JobPayload[]): { batch: string | undefined; jobs: readonly JobPayload[] }[] {
  const runs: { batch: string | undefined; jobs: JobPayload[] }[] = [];
  for (const job of jobs) {
    const batch = countedBatch(job);
    const last = runs[runs.length - 1];
    if (last && last.batch === batch && last.jobs.length < MAX_BATCH) last.jobs.push(job);
    else runs.push({ batch, jobs: [job] });
  }
  return runs;
}

/**
 * Stores jobs of one queue: one script per run of `MAX_BATCH` jobs of one batch, pipelined;
 * each script checks the batches of `checks` first (`batchChecks` of the whole enqueue).
 * `move` (retries moved here by a retry rule, `checks` empty): jobs keep their batch but are
 * not counted in it again.
 */
export async function enqueueQueue(target: EnqueueTarget, queue: string, jobs: readonly JobPayload[], checks: readonly string[], move = false): Promise<void> {
  const keys = target.keys.queue(queue);
  const scriptKeys = [keys.prios, keys.scheduled];
  const head = [keys.jobs, target.keys.wakeChannel, target.statusChannel, queue, target.keys.base];
  const argsOf = ({ batch, jobs: chunk }: { batch: string | undefined; jobs: readonly JobPayload[] }) => {
    const args: (string | number)[] = [...head, batch ?? "", move ? "m" : "c", checks.length / 2, ...checks];
    for (const job of chunk) {
      const runAt = Date.parse(job.runAt);
      const enqueuedAt = Date.parse(job.enqueuedAt);
      const body = compactBody(job, { id: job.id, queue, job: job.job, priority: job.priority, enqueuedAt, runAt });
      args.push(job.id, body, job.job, job.priority, runAt, enqueuedAt);
    }
    return args;
  };
  const runs = runsOf(jobs);
  if (runs.length === 1) {
    await runScript(target.client, "enqueue", scriptKeys, argsOf(runs[0]!));
    return;
  }
  const pipeline = target.client.pipeline();
  for (const run of runs) queueScript(pipeline, "enqueue", scriptKeys, argsOf(run));
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([error]) => error);
  if (failed) throw failed[0];
}
