/**
 * `this.batch` inside a job's `perform`: the batch the job belongs to, to add jobs to it
 * (fan-out: the batch then finishes only when they have too) or read its status.
 * `undefined` outside a batch. A batch's callback job sees its batch too, but cannot add
 * to it: the batch has finished.
 *
 * @module
 */
import type { BatchRecord } from "../adapter/batch.js";
import type { BatchMembership } from "../adapter/payload.js";
import { ConfigError } from "../errors.js";
import type { Job } from "../job/job.js";
import { definitionOf } from "../job/settings.js";
import { currentRuntime } from "../runtime.js";
import { batchAdapter, checkJobs, memberPayload } from "./payloads.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJob = Job<any, any>;

/** What `this.batch` gives a running job of a batch. */
export interface BatchHandle {
  /** The batch id. */
  readonly id: string;
  /** Set on a batch's callback job: which callback it is. */
  readonly callback: "success" | "complete" | "failure" | undefined;
  /**
   * Enqueues `jobs` into this batch (instances, `set()` options kept); resolves to their
   * ids. Await it inside `perform`: jobs added before the running job finishes keep the
   * batch from finishing until they have too.
   * @throws ConfigError on a callback job (its batch has finished), or for jobs of classes
   *   on another adapter than this job's.
   */
  add(jobs: readonly AnyJob[]): Promise<string[]>;
  /** The batch's record (see `batch.status`). */
  status(): Promise<BatchRecord | null>;
}

/** The handle of `job`, which runs as a member (or callback) of `membership`'s batch. */
export function batchHandle(job: AnyJob, membership: BatchMembership): BatchHandle {
  const adapter = definitionOf(job.constructor).adapter;
  return {
    id: membership.id,
    callback: membership.callback,
    async add(jobsGiven) {
      if (membership.callback !== undefined) {
        throw new ConfigError(
          `this.batch.add(): ${job.constructor.name} runs as the ${membership.callback} callback of batch ${membership.id}, which has finished; a callback cannot add jobs to it (start a new batch() instead)`,
        );
      }
      const jobs = checkJobs(jobsGiven, "this.batch.add()");
      if (jobs.length === 0) return [];
      batchAdapter([job.constructor, ...jobs.map((added) => added.constructor)], "this.batch.add()");
      const runtime = currentRuntime();
      const client = await runtime.adapterFor(adapter);
      const payloads = jobs.map((added) => memberPayload(added, membership.id, runtime, client, "this.batch.add()"));
      const stored = await client.enqueue(payloads);
      jobs.forEach((added, index) => {
        added.jobId = stored[index]!.jobId;
        added.providerJobId = stored[index]!.providerJobId;
      });
      return stored.map((result) => result.jobId);
    },
    async status() {
      const client = await currentRuntime().adapterFor(adapter);
      const [record] = await client.getBatches([membership.id]);
      return record ?? null;
    },
  };
}
