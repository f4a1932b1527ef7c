/**
 * Storing one queue's jobs without flow control: each job's compact body (`body.ts`) and
 * its index entries go in one `enqueue` script per `MAX_BATCH` jobs, the scripts of a larger
 * batch pipelined. The script wakes waiting reserves and publishes the statuses.
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

/** Stores jobs of one queue: one script per `MAX_BATCH` jobs, pipelined. */
export async function enqueueQueue(target: EnqueueTarget, queue: string, jobs: readonly JobPayload[]): Promise<void> {
  const keys = target.keys.queue(queue);
  const scriptKeys = [keys.prios, keys.scheduled];
  const head = [keys.jobs, target.keys.wakeChannel, target.statusChannel, queue];
  const argsOf = (chunk: readonly JobPayload[]) => {
    const args: (string | number)[] = [...head];
    for (const job of chunk) {
      const runAt = Date.parse(job.runAt);
      const enqueuedAt = Date.parse(job.enqueuedAt);
      const body = compactBody(job, { id: job.id, queue, job: job.job, priority: job.priority, enqueuedAt, runAt });
      args.push(job.id, body, job.job, job.priority, runAt, enqueuedAt);
    }
    return args;
  };
  if (jobs.length <= MAX_BATCH) {
    await runScript(target.client, "enqueue", scriptKeys, argsOf(jobs));
    return;
  }
  const pipeline = target.client.pipeline();
  for (let start = 0; start < jobs.length; start += MAX_BATCH) queueScript(pipeline, "enqueue", scriptKeys, argsOf(jobs.slice(start, start + MAX_BATCH)));
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([error]) => error);
  if (failed) throw failed[0];
}
