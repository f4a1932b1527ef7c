/**
 * Reading status and managing the dead set and queues, outside any job class: what the
 * CLI and dashboards use.
 *
 * @module
 */
import type { DeadJob, QueueInfo } from "./adapter/contract.js";
import { currentRuntime, type Runtime } from "./runtime.js";
import { toJobStatus, type JobStatus } from "./status.js";

/** Options shared by the admin functions. */
export interface AdminOptions {
  /** Named adapter (`adapters.<name>`); default: the default adapter. */
  adapter?: string;
  runtime?: Runtime;
}

/** A job's status by id from the default (or named) adapter; `null` when unknown or expired. */
export async function getStatus(jobId: string, options: AdminOptions = {}): Promise<JobStatus | null> {
  const client = await (options.runtime ?? currentRuntime()).adapterFor(options.adapter);
  const [record] = await client.getStatus([jobId]);
  return record ? toJobStatus(record) : null;
}

/** Counts per queue. */
export async function listQueues(options: AdminOptions = {}): Promise<QueueInfo[]> {
  const client = await (options.runtime ?? currentRuntime()).adapterFor(options.adapter);
  return client.listQueues();
}

/** The dead set of one adapter. */
export interface DeadSetApi {
  /** Dead jobs, newest first. */
  list(options?: { queue?: string; limit?: number; offset?: number }): Promise<DeadJob[]>;
  /** Moves the given jobs (by job id or provider id) back to their queues with fresh attempts. */
  retry(ids: string[]): Promise<number>;
  /** Moves every dead job (of `queue`, if given) back. */
  retryAll(queue?: string): Promise<number>;
  /** Deletes the given dead jobs. */
  purge(ids: string[]): Promise<number>;
  /** Deletes every dead job (of `queue`, if given). */
  purgeAll(queue?: string): Promise<number>;
}

/**
 * The dead set of the default (or named) adapter.
 * @example
 * const dead = deadSet();
 * for (const job of await dead.list()) console.log(job.id, job.error.message);
 * await dead.retryAll();
 */
export function deadSet(options: AdminOptions = {}): DeadSetApi {
  const client = () => (options.runtime ?? currentRuntime()).adapterFor(options.adapter);
  const all = (queue?: string) => (queue === undefined ? { all: true as const } : { all: true as const, queue });
  return {
    list: async (listOptions = {}) => (await client()).listDead(listOptions),
    retry: async (ids) => (await client()).retryDead({ ids }),
    retryAll: async (queue) => (await client()).retryDead(all(queue)),
    purge: async (ids) => (await client()).purgeDead({ ids }),
    purgeAll: async (queue) => (await client()).purgeDead(all(queue)),
  };
}
