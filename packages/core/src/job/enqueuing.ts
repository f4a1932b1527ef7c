/**
 * Enqueuing: turning a job instance into a payload and handing it to its adapter.
 * Arguments are checked and serialized before anything is sent, so a bad argument
 * throws `SerializationError` and nothing is enqueued.
 *
 * Inside `withTransaction` (transactions/scope.ts), a job is registered in the scope
 * synchronously, payload built, and routed there (joined, outbox or deferred to commit);
 * outside, the path is the one it always was, plus one AsyncLocalStorage `getStore()`.
 *
 * @module
 */
import type { JobPayload } from "../adapter/contract.js";
import type { AdapterClient } from "../backends/client.js";
import type { Duration } from "../duration.js";
import { toMs } from "../duration.js";
import { rules, validateOptions, type OptionRule, type OptionSchema } from "../config/validate.js";
import { ConfigError } from "../errors.js";
import { currentRuntime, type Runtime } from "../runtime.js";
import { serializeArguments } from "../serializers/arguments.js";
import type { JobStatus } from "../status.js";
import { toJobStatus } from "../status.js";
import { routeScoped, type Routed } from "../transactions/route.js";
import { activeScope, type ScopedJob, type TransactionScope } from "../transactions/scope.js";
import { runWithCallbacks } from "./callbacks.js";
import { checkRetryPriorities } from "./capability-fit.js";
import { flowFor } from "./flow.js";
import type { Job } from "./job.js";
import { definitionOf, type JobDefinition } from "./settings.js";

/** Options for one enqueue (`Job.set`, `job.set`, `deliverLater`). */
export interface SetOptions {
  /** Delay before the job may run: ms, `"90s"`, `"10m"`, `"2h"`, `"1d"`, `"1w"`, or `{ minutes: 10 }`. */
  wait?: Duration;
  /** Earliest time the job may run. Exclusive with `wait`. */
  waitUntil?: Date;
  /** Queue for this enqueue (prefix from config applied). */
  queue?: string;
  /** Priority for this enqueue; lower runs first. */
  priority?: number;
  /**
   * The caller's open transaction, for adapters with `transactionalEnqueue` (Postgres: a
   * `pg` client inside `BEGIN`, or a `TransactionConnection`): the job exists only if the
   * transaction commits. Given, it wins over an enclosing `withTransaction`.
   */
  transaction?: unknown;
  /**
   * Ordering group, for adapters with `groups` (SQS FIFO queues: the message group id):
   * jobs of one group run one at a time, in the order they were enqueued. Up to 128
   * letters, digits and ``!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~``.
   */
  group?: string;
}

const validDate: OptionRule = { expected: "a valid Date", test: (value) => value instanceof Date && !Number.isNaN(value.getTime()) };

/**
 * The kinds of {@link SetOptions}: an unknown key (`priorty`) is a `ConfigError` naming the
 * nearest valid one, a value of the wrong kind names key and value. The finer checks (wait
 * or waitUntil, a duration's text, the group's characters) are made where the options are
 * applied, with their own messages.
 */
export const SET_OPTIONS_SCHEMA: OptionSchema<SetOptions> = {
  // The kind only: a string or object that is not a duration is `InvalidDurationError`
  // from toMs, which says what is wrong with it (`"tenminutes" is not a duration`).
  wait: {
    expected: 'a duration (milliseconds, "90s", "5m" or { minutes: 5 })',
    test: (value) => typeof value === "number" || typeof value === "string" || (typeof value === "object" && value !== null && !Array.isArray(value)),
  },
  waitUntil: validDate,
  queue: rules.nonEmptyString,
  priority: { expected: "an integer", test: Number.isInteger },
  transaction: { expected: "your open transaction (an object: for Postgres, a pg client inside BEGIN)", test: (value) => typeof value === "object" && value !== null },
  group: rules.string,
};

/** What `performLater` resolves to. */
export interface EnqueuedJob {
  /** False when an `aroundEnqueue` callback chose not to enqueue. */
  enqueued: boolean;
  /** Errand job id (a UUIDv7: time-ordered, 62 random bits): use it with `Job.status(id)`. */
  jobId: string;
  /** The backend's own id. */
  providerJobId: string;
  /** Job class name. */
  job: string;
  /** Adapter that stored it. */
  adapter: string;
  queue: string;
  priority: number;
  enqueuedAt: Date;
  scheduledAt: Date;
  /**
   * True when uniqueness matched an existing job (its id is returned). Always false for a
   * `deferred` job: uniqueness is decided when it is enqueued, after the commit.
   */
  duplicate: boolean;
  /**
   * True when the job waits for the commit of the app's transaction (`withTransaction`):
   * kept in memory until then, or written to the outbox. `providerJobId` is then `""`, and
   * `enqueued` and `duplicate` say nothing yet: callbacks and uniqueness run at the flush.
   */
  deferred: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJob = Job<any, any>;

function resolveRunAt(options: SetOptions, now: number): Date {
  if (options.wait !== undefined && options.waitUntil !== undefined) {
    throw new ConfigError("set(): give either wait or waitUntil, not both");
  }
  if (options.waitUntil !== undefined) {
    if (!(options.waitUntil instanceof Date) || Number.isNaN(options.waitUntil.getTime())) {
      throw new ConfigError(`set({ waitUntil }): expected a valid Date, got ${String(options.waitUntil)}`);
    }
    return options.waitUntil;
  }
  return new Date(options.wait === undefined ? now : now + toMs(options.wait, "set({ wait })"));
}

/** `set({ priority })`, else the class's priority: a number, or its function's answer for this job. */
function resolvePriority(job: AnyJob, definition: JobDefinition, options: SetOptions): number {
  if (options.priority !== undefined) {
    if (!Number.isInteger(options.priority)) throw new ConfigError(`set({ priority }): expected an integer, got ${String(options.priority)}`);
    return options.priority;
  }
  const setting = definition.priority;
  if (typeof setting !== "function") return setting;
  const priority = setting(job);
  if (!Number.isInteger(priority)) {
    throw new ConfigError(`${job.constructor.name}: its priority function must return an integer, got ${String(priority)}`);
  }
  return priority;
}

/** Fills in the job's queue, priority and times from its class and `options`. */
function applyOptions(job: AnyJob, definition: JobDefinition, options: SetOptions, runtime: Runtime, now = Date.now()): void {
  // Checked here, where every enqueue passes (`set`, `enqueue`, `performAllLater`, a
  // `deliverLater`, an `enqueueOptions` assigned by hand), so nothing reaches an adapter unread.
  validateOptions(options, SET_OPTIONS_SCHEMA, `the set() options of ${job.constructor.name}`);
  let queue = options.queue;
  if (queue === undefined) {
    const setting = definition.queue;
    queue = typeof setting === "function" ? setting(job) : setting;
  }
  if (queue !== undefined && (typeof queue !== "string" || queue.length === 0)) {
    throw new ConfigError(`${job.constructor.name}: queue must be a non-empty string, got ${String(queue)}`);
  }
  job.queueName = runtime.queueName(queue ?? "default");
  job.priority = resolvePriority(job, definition, options);
  job.enqueuedAt = new Date(now);
  job.scheduledAt = resolveRunAt(options, now);
  if (options.group !== undefined && (typeof options.group !== "string" || !/^[!-~]{1,128}$/.test(options.group))) {
    throw new ConfigError(`set({ group }): expected 1 to 128 printable ASCII characters, got ${JSON.stringify(options.group)}`);
  }
}

/** ISO text of a date, remembering the last one: a batch shares its enqueue time. */
let lastIso: { time: number; text: string } = { time: Number.NaN, text: "" };
function iso(date: Date): string {
  const time = date.getTime();
  if (time !== lastIso.time) lastIso = { time, text: date.toISOString() };
  return lastIso.text;
}

function buildPayload(job: AnyJob, name: string, definition: JobDefinition, runtime: Runtime, options: SetOptions): JobPayload {
  const args = serializeArguments(job.arguments, runtime.app);
  const payload: JobPayload = {
    v: 1,
    job: name,
    id: job.jobId,
    queue: job.queueName,
    priority: job.priority,
    args,
    executions: 0,
    enqueuedAt: iso(job.enqueuedAt!),
    runAt: iso(job.scheduledAt!),
  };
  if (definition.timeoutMs !== undefined) payload.timeoutMs = definition.timeoutMs;
  if (options.group !== undefined) payload.group = options.group;
  if (definition.flow !== undefined) payload.flow = flowFor(definition.flow, name, job.arguments, args);
  return payload;
}

/**
 * The payload `performLater` would store for `job` with `options`, resolved the same way
 * (queue and priority, a class's functions of the job included, times, timeout), without
 * storing it: `performJob` in `@errand/core/testing` runs it.
 */
export function payloadFor(job: AnyJob, options: SetOptions, runtime: Runtime): JobPayload {
  const definition = definitionOf(job.constructor);
  const name = runtime.registry.ensure(job.constructor);
  applyOptions(job, definition, options, runtime);
  return buildPayload(job, name, definition, runtime, options);
}

function describe(job: AnyJob, name: string, adapter: string, enqueued: boolean, duplicate: boolean, deferred = false): EnqueuedJob {
  return {
    enqueued,
    jobId: job.jobId,
    providerJobId: job.providerJobId ?? "",
    job: name,
    adapter,
    queue: job.queueName,
    priority: job.priority,
    enqueuedAt: job.enqueuedAt!,
    scheduledAt: job.scheduledAt!,
    duplicate,
    deferred,
  };
}

/**
 * Enqueues one job with its enqueue callbacks; inside `withTransaction`, routes it there
 * (the one `getStore()` of the path; none when `options.transaction` is given).
 */
export function enqueueOne(job: AnyJob, options: SetOptions): Promise<EnqueuedJob> {
  const scope = options.transaction === undefined ? activeScope() : undefined;
  if (scope === undefined) return enqueueNow(job, options);
  try {
    return enqueueInScope(scope, job, options);
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

/**
 * Registers `job` in `scope` before this call returns (a `performLater` nobody awaits still
 * belongs to the transaction), its payload built now: a bad argument throws here, inside
 * the app's transaction. Its enqueue callbacks run where it is stored.
 */
function enqueueInScope(scope: TransactionScope, job: AnyJob, options: SetOptions): Promise<EnqueuedJob> {
  const runtime = currentRuntime();
  const definition = definitionOf(job.constructor);
  if (!definition.enqueueAfterCommit) return enqueueNow(job, options);
  const { name, entry } = scopedEntry(job, definition, options, runtime, definition.callbacks);
  scope.jobs.push(entry);
  const done = routeScoped(scope, definition.adapter, [entry]).then(([routed]) => describeRouted(entry, name, routed!));
  scope.track(done);
  return done;
}

/** A job made inside a scope: options applied, payload built, not yet registered. */
function scopedEntry(job: AnyJob, definition: JobDefinition, options: SetOptions, runtime: Runtime, callbacks: ScopedJob["callbacks"], now?: number): { name: string; entry: ScopedJob } {
  const name = runtime.registry.ensure(job.constructor);
  applyOptions(job, definition, options, runtime, now);
  return { name, entry: { adapter: definition.adapter, payload: buildPayload(job, name, definition, runtime, options), job, callbacks, route: "pending" } };
}

/** What a scoped job's enqueue answers once routed. */
function describeRouted(entry: ScopedJob, name: string, routed: Routed): EnqueuedJob {
  return describe(entry.job, name, routed.adapter, routed.ran, routed.duplicate, routed.deferred);
}

async function enqueueNow(job: AnyJob, options: SetOptions): Promise<EnqueuedJob> {
  const runtime = currentRuntime();
  const jobClass = job.constructor;
  const definition = definitionOf(jobClass);
  const name = runtime.registry.ensure(jobClass);
  applyOptions(job, definition, options, runtime);
  const client = await runtime.adapterFor(definition.adapter);
  checkRetryPriorities(definition, name, client.name, client.capabilities);
  const { callbacks } = definition;
  let duplicate = false;
  const run = await runWithCallbacks(job, callbacks.beforeEnqueue, callbacks.aroundEnqueue, callbacks.afterEnqueue, async () => {
    const [stored] = await client.enqueue([buildPayload(job, name, definition, runtime, options)], options.transaction);
    job.jobId = stored!.jobId;
    job.providerJobId = stored!.providerJobId;
    duplicate = stored!.duplicate === true;
  });
  return describe(job, name, client.name, run.ran, duplicate);
}

/** A batch with every payload built, not yet sent. */
interface PreparedBatch {
  jobs: readonly AnyJob[];
  names: string[];
  /** adapter name -> transaction (undefined for none) -> group */
  groups: Map<string | undefined, Map<unknown, { indexes: number[]; payloads: JobPayload[] }>>;
}

/** Builds every payload of a batch: one bad argument anywhere throws, and nothing is enqueued. */
function prepareBatch(jobs: readonly AnyJob[], runtime: Runtime, now: number): PreparedBatch {
  const groups: PreparedBatch["groups"] = new Map();
  const names: string[] = [];
  jobs.forEach((job, index) => {
    const definition = definitionOf(job.constructor);
    const name = runtime.registry.ensure(job.constructor);
    names.push(name);
    applyOptions(job, definition, job.enqueueOptions, runtime, now);
    let byTransaction = groups.get(definition.adapter);
    if (!byTransaction) groups.set(definition.adapter, (byTransaction = new Map()));
    let group = byTransaction.get(job.enqueueOptions.transaction);
    if (!group) byTransaction.set(job.enqueueOptions.transaction, (group = { indexes: [], payloads: [] }));
    group.indexes.push(index);
    group.payloads.push(buildPayload(job, name, definition, runtime, job.enqueueOptions));
  });
  return { jobs, names, groups };
}

/** Sends a prepared batch: one adapter call per (adapter, transaction) group. */
async function sendBatch(runtime: Runtime, { jobs, names, groups }: PreparedBatch): Promise<EnqueuedJob[]> {
  // Every adapter is resolved and every class checked against it before the first send.
  const clients = new Map<string | undefined, AdapterClient>();
  for (const adapter of groups.keys()) clients.set(adapter, await runtime.adapterFor(adapter));
  jobs.forEach((job, index) => {
    const definition = definitionOf(job.constructor);
    const client = clients.get(definition.adapter)!;
    checkRetryPriorities(definition, names[index]!, client.name, client.capabilities);
  });
  const results: EnqueuedJob[] = new Array(jobs.length);
  for (const [adapter, byTransaction] of groups) {
    const client = clients.get(adapter)!;
    for (const [transaction, group] of byTransaction) {
      const stored = await client.enqueue(group.payloads, transaction);
      group.indexes.forEach((jobIndex, position) => {
        const job = jobs[jobIndex]!;
        job.jobId = stored[position]!.jobId;
        job.providerJobId = stored[position]!.providerJobId;
        results[jobIndex] = describe(job, names[jobIndex]!, client.name, true, stored[position]!.duplicate === true);
      });
    }
  }
  return results;
}

/**
 * Enqueues many jobs: one adapter call per (adapter, transaction) group; no enqueue
 * callbacks. Inside `withTransaction`, the jobs are registered there and routed per adapter.
 */
export function enqueueJobs(jobs: readonly AnyJob[]): Promise<EnqueuedJob[]> {
  const scope = activeScope();
  try {
    const runtime = currentRuntime();
    // The batch is enqueued at one time.
    const now = Date.now();
    if (scope === undefined) {
      const prepared = prepareBatch(jobs, runtime, now);
      return sendBatch(runtime, prepared);
    }
    return enqueueJobsInScope(scope, jobs, runtime, now);
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

/**
 * `performAllLater` inside a transaction: jobs of classes with `enqueueAfterCommit = false`
 * (or their own `transaction`) go now as a batch; the others are registered in the scope,
 * all payloads built before any is registered or sent.
 */
function enqueueJobsInScope(scope: TransactionScope, jobs: readonly AnyJob[], runtime: Runtime, now: number): Promise<EnqueuedJob[]> {
  const direct: AnyJob[] = [];
  const directIndexes: number[] = [];
  const scoped = new Map<string | undefined, { index: number; name: string; entry: ScopedJob }[]>();
  const ordered: ScopedJob[] = [];
  jobs.forEach((job, index) => {
    const definition = definitionOf(job.constructor);
    const options = job.enqueueOptions;
    if (!definition.enqueueAfterCommit || options.transaction !== undefined) {
      direct.push(job);
      directIndexes.push(index);
      return;
    }
    const { name, entry } = scopedEntry(job, definition, options, runtime, undefined, now);
    let list = scoped.get(definition.adapter);
    if (!list) scoped.set(definition.adapter, (list = []));
    list.push({ index, name, entry });
    ordered.push(entry);
  });
  const prepared = direct.length > 0 ? prepareBatch(direct, runtime, now) : undefined;
  // Registered in the order made (a job's position in `jobs`).
  for (const entry of ordered) scope.jobs.push(entry);
  const done = (async () => {
    const results: EnqueuedJob[] = new Array(jobs.length);
    if (prepared !== undefined) (await sendBatch(runtime, prepared)).forEach((result, position) => (results[directIndexes[position]!] = result));
    for (const [adapter, list] of scoped) {
      const routed = await routeScoped(scope, adapter, list.map((item) => item.entry));
      list.forEach((item, position) => (results[item.index] = describeRouted(item.entry, item.name, routed[position]!)));
    }
    return results;
  })();
  scope.track(done);
  return done;
}

/** Reads a job's status from the adapter its class uses. */
export async function jobStatus(jobClass: Function, jobId: string): Promise<JobStatus | null> {
  const runtime = currentRuntime();
  const client = await runtime.adapterFor(definitionOf(jobClass).adapter);
  const [record] = await client.getStatus([jobId]);
  return record ? toJobStatus(record) : null;
}
