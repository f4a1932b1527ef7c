/**
 * The operator's API: listing jobs and acting on them, pausing queues, live workers. What
 * `@errand/dashboard` and the CLI's `errand jobs` / `errand queues` / `errand workers` use;
 * apps can use it too. Built on the adapter's `listJobs` and `control` capabilities
 * (`adapter/control.ts`); a backend without them refuses with `UnsupportedError`.
 *
 * Queue names are as stored (the config's `queueNamePrefix` applied), as `listQueues` and
 * the dead set show them.
 *
 * @module
 */
import { MAX_LIST_LIMIT, type AttemptRecord, type JobPayload, type JobState, type ListedJob, type QueueInfo, type WorkerRecord } from "./adapter/contract.js";
import type { AdminOptions } from "./admin.js";
import { ConfigError } from "./errors.js";
import { currentRuntime } from "./runtime.js";
import { toJobStatus, type JobStatus } from "./status.js";
import { validatePayload } from "./wire-format.js";

const STATES: readonly JobState[] = ["queued", "scheduled", "running", "retrying", "succeeded", "failed", "dead"];

/** A job as the operator's API shows it: its status, and its payload while the backend holds it. */
export interface JobView extends JobStatus {
  /** The stored payload, parsed; `null` when the backend no longer holds it or it is not valid wire format. */
  payload: JobPayload | null;
  /** The stored text when it is not valid wire format (a dead job with a malformed body), else `null`. */
  rawBody: string | null;
  /** Earlier runs that ended in a retry, oldest first (from the payload). */
  attempts: AttemptRecord[];
}

/** Options of {@link JobsApi.list}. */
export interface ListJobsQuery {
  state: JobState;
  queue?: string;
  /** Registered job class name. */
  job?: string;
  /** A previous page's `next`. */
  cursor?: string;
  /** 1 to 500; default 50. */
  limit?: number;
}

/** A page of jobs. */
export interface JobList {
  jobs: JobView[];
  /** Cursor of the next page; absent on the last. */
  next?: string;
}

/** Jobs of one adapter, for operators. */
export interface JobsApi {
  /** One state's jobs, a page at a time (order: `ListJobsOptions` in the adapter contract). */
  list(query: ListJobsQuery): Promise<JobList>;
  /** One job in any state, or `null` when unknown or expired. */
  get(id: string): Promise<JobView | null>;
  /** Takes jobs that have not started out of their queues for good (status `failed`, `JobCancelledError`). Resolves to the ids cancelled. */
  cancel(ids: string[]): Promise<string[]>;
  /** Makes scheduled and retrying jobs due now. Resolves to the ids moved. */
  runNow(ids: string[]): Promise<string[]>;
  /** Aborts running jobs: their `this.signal` fires within about a second (`JobAbortedError`). Resolves to the ids marked. */
  abort(ids: string[]): Promise<string[]>;
  /**
   * Interrupts running jobs, as a deploy's SIGTERM would each alone, within about a second: a
   * resumable job stops at its next checkpoint and is re-enqueued with its progress; another's
   * `this.signal` fires (`JobInterruptRequestedError`) and, unless it finishes anyway, it is
   * handed back to run again from the start. An abort of the same run wins. Resolves to the ids marked.
   */
  interrupt(ids: string[]): Promise<string[]>;
}

/** Queues of one adapter, for operators. */
export interface QueuesApi {
  /** Counts per queue; with `throughputMinutes`, runs finished per minute too. */
  list(options?: { throughputMinutes?: number }): Promise<QueueInfo[]>;
  /** Workers everywhere stop taking jobs from these queues within about a second. Running jobs go on. */
  pause(...names: string[]): Promise<void>;
  /** Workers take from these queues again. */
  resume(...names: string[]): Promise<void>;
}

/** A worker as the operator's API shows it. */
export interface WorkerView extends WorkerRecord {
  /** No beat for longer than its `ttlMs`: it stopped without saying so (killed, hung, cut off). */
  gone: boolean;
}

function clientOf(options: AdminOptions) {
  return (options.runtime ?? currentRuntime()).adapterFor(options.adapter);
}

/** Turns a listed job into the operator's view. */
export function toJobView(listed: ListedJob): JobView {
  let payload: JobPayload | null = null;
  let rawBody: string | null = null;
  if (listed.body !== undefined) {
    try {
      payload = validatePayload(JSON.parse(listed.body));
    } catch {
      rawBody = listed.body;
    }
  }
  return { ...toJobStatus(listed), payload, rawBody, attempts: payload?.attempts ?? [] };
}

function checkIds(ids: unknown, what: string): string[] {
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string" || id === "")) {
    throw new ConfigError(`${what}: ids must be an array of job ids (non-empty strings)`);
  }
  return ids as string[];
}

function checkQuery(query: ListJobsQuery) {
  const known = new Set(["state", "queue", "job", "cursor", "limit"]);
  for (const key of Object.keys(query)) if (!known.has(key)) throw new ConfigError(`jobs.list: unknown option ${JSON.stringify(key)}`);
  if (!STATES.includes(query.state)) throw new ConfigError(`jobs.list: state must be one of ${STATES.join(", ")}, got ${JSON.stringify(query.state)}`);
  const limit = query.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new ConfigError(`jobs.list: limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${JSON.stringify(query.limit)}`);
  }
  for (const key of ["queue", "job", "cursor"] as const) {
    const value = query[key];
    if (value !== undefined && (typeof value !== "string" || value === "")) throw new ConfigError(`jobs.list: ${key} must be a non-empty string`);
  }
  return { ...query, limit };
}

/**
 * Jobs of the default (or named) adapter.
 * @example
 * const page = await jobs().list({ state: "dead", queue: "mailers", limit: 20 });
 * await jobs().cancel(page.jobs.map((job) => job.id));
 */
export function jobs(options: AdminOptions = {}): JobsApi {
  return {
    list: async (query) => {
      const page = await (await clientOf(options)).listJobs(checkQuery(query));
      return page.next === undefined ? { jobs: page.jobs.map(toJobView) } : { jobs: page.jobs.map(toJobView), next: page.next };
    },
    get: async (id) => {
      const [listed] = (await (await clientOf(options)).listJobs({ ids: checkIds([id], "jobs.get") })).jobs;
      return listed ? toJobView(listed) : null;
    },
    cancel: async (ids) => (await clientOf(options)).changeJobs({ action: "cancel", ids: checkIds(ids, "jobs.cancel") }),
    runNow: async (ids) => (await clientOf(options)).changeJobs({ action: "runNow", ids: checkIds(ids, "jobs.runNow") }),
    abort: async (ids) => (await clientOf(options)).changeJobs({ action: "abort", ids: checkIds(ids, "jobs.abort") }),
    interrupt: async (ids) => (await clientOf(options)).changeJobs({ action: "interrupt", ids: checkIds(ids, "jobs.interrupt") }),
  };
}

function checkNames(names: string[], what: string): string[] {
  if (names.length === 0 || names.some((name) => typeof name !== "string" || name === "")) {
    throw new ConfigError(`${what}: give one or more queue names (non-empty strings)`);
  }
  return names;
}

/**
 * Queues of the default (or named) adapter.
 * @example
 * await queues().pause("mailers");
 */
export function queues(options: AdminOptions = {}): QueuesApi {
  return {
    list: async (listOptions = {}) => {
      const minutes = listOptions.throughputMinutes;
      if (minutes !== undefined && (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440)) {
        throw new ConfigError(`queues.list: throughputMinutes must be an integer from 1 to 1440, got ${JSON.stringify(minutes)}`);
      }
      return (await clientOf(options)).listQueues(minutes === undefined ? {} : { throughputMinutes: minutes });
    },
    pause: async (...names) => (await clientOf(options)).pauseQueues({ queues: checkNames(names, "queues.pause"), paused: true }),
    resume: async (...names) => (await clientOf(options)).pauseQueues({ queues: checkNames(names, "queues.resume"), paused: false }),
  };
}

/** Workers of the default (or named) adapter that beat within the last hour, live first, then by id. */
export async function listWorkers(options: AdminOptions = {}): Promise<WorkerView[]> {
  const now = Date.now();
  const records = await (await clientOf(options)).listWorkers();
  return records
    .map((record) => ({ ...record, gone: record.lastBeatAt.getTime() + record.ttlMs < now }))
    .sort((a, b) => Number(a.gone) - Number(b.gone) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
