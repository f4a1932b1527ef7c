/**
 * Execution: running one job and deciding how it ends. The same code runs a job for the
 * worker loop, the inline adapter and the test adapter's `performEnqueuedJobs`, and
 * `performNow` shares its perform runner (perform.ts), so callbacks and error rules behave
 * the same everywhere.
 *
 * For a reserved job: validate the payload (malformed → dead), find the registered class
 * (unknown → dead), restore the arguments (models loaded), run the perform callbacks and
 * `perform` under the job's timeout, serialize the result, and turn the outcome into a
 * `Settlement` for the adapter. Errors go through the class's rules (`exceptions.ts`).
 *
 * @module
 */
import { type JobPayload, type Reservation, type Settlement } from "../adapter/contract.js";
// The module binding, not the global: Node defines `globalThis.performance` with a getter
// that ran on every read (~100 instructions per job of a no-op drain, callgrind).
import { performance } from "node:perf_hooks";
import { JobAbortedError, JobInterruptedError, JobInterruptRequestedError, toStoredError } from "../errors.js";
import { endScopes, runInScopes, type PerformOutcome } from "../instrumentation.js";
import type { Runtime } from "../runtime.js";
import { readArguments, serializeResult } from "../serializers/arguments.js";
import { decodePayload, peekJobId } from "../wire-format.js";
import { backoffMs, matchRule, ruleExecutions, type ErrorRule } from "./exceptions.js";
import type { Job } from "./job.js";
import { resolvedJob } from "./building.js";
import { restoreJob } from "./restoring.js";
import { hasPerformCallbacks, runPerform } from "./perform.js";
import { definitionOf, type JobDefinition } from "./settings.js";
import { failedRuns, resumes, resumption, withAttempt } from "./resumption.js";
import type { StopCheck } from "./steps.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJob = Job<any, any>;

const NEVER_ABORTED = new AbortController().signal;

/** What the executor needs from whoever runs the job. */
export interface ExecutionContext {
  runtime: Runtime;
  workerId: string;
  /** The adapter's name, for instrumentation (`"unknown"` when not given). */
  adapter?: string;
  /** Receives `this.progress(...)` calls, with the reservation the job runs under. */
  onProgress?(payload: JobPayload, fraction: number, message: string | undefined, reservation: Reservation): void;
  /** Asked at each checkpoint of a resumable job: true stops it there (the worker is stopping; a test interrupts). */
  stopping?: StopCheck;
}

/**
 * What a worker that reports its runs follows of one (its slot entry): the payload and start
 * it is given here, and what an operator asked of the run (set by the worker from its
 * heartbeat, `worker/control.ts`).
 */
export interface RunTrack {
  payload: JobPayload | undefined;
  startedAt: number;
  /** An operator's abort or interrupt of this run; an abort replaces an interrupt. */
  operator?: "interrupt" | "abort" | undefined;
  /** The job instance, once built: an interrupt tells a resumable one to stop at its next checkpoint. */
  job?: { continuationRun: { interruptRequested: boolean } | undefined } | undefined;
}

/**
 * The job's signal was aborted by an operator (`changeJobs({ action: "abort" })`), not by a
 * timeout, lease loss or shutdown; or the run was aborted after an operator's interrupt had
 * already fired its signal (abort wins).
 */
function abortedByOperator(job: AnyJob, track: RunTrack | undefined): boolean {
  if (track?.operator === "abort") return true;
  // Read on the failure path only: for a job that never read `this.signal` the getter may
  // make its controller now (the worker made it already if it aborted the job).
  const signal = job.signal;
  return signal.aborted && signal.reason instanceof JobAbortedError;
}

/** The job's signal was aborted by an operator's interrupt (`changeJobs({ action: "interrupt" })`). */
function interruptedByOperator(job: AnyJob): boolean {
  const signal = job.signal;
  return signal.aborted && signal.reason instanceof JobInterruptRequestedError;
}

/** Runs `afterDiscard` handlers; their own errors are reported, not thrown. */
async function runAfterDiscard(context: ExecutionContext, definition: JobDefinition, job: AnyJob, error: unknown) {
  for (const handler of definition.afterDiscard) {
    try {
      await handler(job, error);
    } catch (handlerError) {
      context.runtime.events.emit("worker:error", { workerId: context.workerId, error: handlerError });
    }
  }
}

// The error a failed settlement came from, for callers that rethrow it (inline adapter, performJob).
const thrownErrors = new WeakMap<Settlement, unknown>();

/** The error that made a `retry`, `failed` or `dead` settlement, as it was thrown. */
export function originalError(settlement: Settlement): unknown {
  return thrownErrors.get(settlement);
}

function failedWith<S extends Settlement>(settlement: S, error: unknown): S {
  thrownErrors.set(settlement, error);
  return settlement;
}

function dead(
  context: ExecutionContext,
  reservation: Reservation,
  error: unknown,
  payload?: JobPayload,
): Settlement {
  const stored = toStoredError(error);
  context.runtime.events.emit("job:dead", {
    payload,
    providerJobId: reservation.providerJobId,
    error: stored,
    workerId: context.workerId,
  });
  return failedWith(
    payload ? { reservation, outcome: "dead", error: stored, payload } : { reservation, outcome: "dead", error: stored },
    error,
  );
}

/** A job instance for handlers when the real one could not be built (arguments failed to load). */
type SignalSource = AbortSignal | (() => AbortSignal);

function bareJob(jobClass: Function, payload: JobPayload, executions: number, signal: SignalSource): AnyJob {
  const job = Object.create(jobClass.prototype) as AnyJob;
  Object.assign(job, { arguments: [], enqueueOptions: {}, providerJobId: undefined, reportProgress: undefined });
  assignRunState(job, payload, executions, signal);
  return job;
}

function assignRunState(job: AnyJob, payload: JobPayload, executions: number, signal: SignalSource): void {
  job.jobId = payload.id;
  job.executions = executions;
  job.queueName = payload.queue;
  job.priority = payload.priority;
  job.restoreTimes(payload.enqueuedAt, payload.runAt);
  job.signalSource = signal;
  job.batchMembership = payload.batch;
}

/** Decides what a failed attempt becomes. */
async function decide(
  context: ExecutionContext,
  definition: JobDefinition,
  job: AnyJob,
  payload: JobPayload,
  reservation: Reservation,
  thrown: unknown,
  startedAt: number,
  track: RunTrack | undefined,
): Promise<Settlement> {
  const { runtime, workerId } = context;
  if (abortedByOperator(job, track)) {
    // An operator stopped it: whatever it threw on the way out, it is not retried.
    const reason = job.signal.reason instanceof JobAbortedError ? job.signal.reason : new JobAbortedError();
    await runAfterDiscard(context, definition, job, reason);
    runtime.events.emit("job:discard", { payload, error: reason, workerId });
    return failedWith({ reservation, outcome: "failed", error: toStoredError(reason) }, reason);
  }
  let error = thrown;
  // An interruption is no failure: no rule sees it.
  if (resumes(job, definition, error, false)) return resume(context, definition, job, payload, reservation, error, startedAt);
  if (interruptedByOperator(job)) return handBack(context, definition, job, payload, reservation, startedAt);
  let rule: ErrorRule | undefined = matchRule(definition.rules, error);
  if (rule?.kind === "rescue") {
    try {
      await rule.handler(error, job);
      runtime.events.emit("job:complete", { payload, result: undefined, durationMs: 0, workerId });
      return { reservation, outcome: "succeeded" };
    } catch (handlerError) {
      error = handlerError;
      rule = matchRule(definition.rules, error, true);
    }
  }
  if (rule?.kind === "discard") {
    await runAfterDiscard(context, definition, job, error);
    runtime.events.emit("job:discard", { payload, error, workerId });
    return failedWith({ reservation, outcome: "failed", error: toStoredError(error) }, error);
  }
  if (resumes(job, definition, error, true)) return resume(context, definition, job, payload, reservation, error, startedAt);
  const executions = job.executions;
  // Every retried payload carries the counters, even empty: a payload that ran before and has
  // none was not written by this core's retry (an older release, or a backend that keeps the
  // first body, as SQS FIFO does), so its rules count total runs, as before, rather than
  // start from zero and, with the counters never kept, retry forever.
  const counters = payload.exceptionExecutions ?? (payload.executions > 0 ? undefined : {});
  const next: JobPayload = { ...payload, executions, exceptionExecutions: { ...counters }, attempts: withAttempt(payload.attempts, startedAt, error) };
  // A rule counts its own failures; the default policy counts runs, resumed ones left out.
  let failures = failedRuns(payload, executions);
  if (rule?.kind === "retry") {
    failures = counters === undefined ? executions : ruleExecutions(counters, rule.key) + 1;
    next.exceptionExecutions = { ...counters, [rule.key]: failures };
  }
  const policy = rule?.kind === "retry" ? rule : runtime.retryPolicy;
  if (failures < policy.attempts) {
    const runAt = new Date(Date.now() + backoffMs(policy.wait, policy.jitter, failures));
    next.runAt = runAt.toISOString();
    if (rule?.kind === "retry" && rule.queue !== undefined) next.queue = runtime.queueName(rule.queue);
    if (rule?.kind === "retry" && rule.priority !== undefined) next.priority = rule.priority;
    runtime.events.emit("job:retry", { payload: next, error, runAt, workerId });
    return failedWith({ reservation, outcome: "retry", payload: next, runAt, error: toStoredError(error) }, error);
  }
  await runAfterDiscard(context, definition, job, error);
  return dead(context, reservation, error, next);
}

/**
 * A run whose signal an operator's interrupt aborted, ended in an error other than a
 * checkpoint's interruption: no rule sees it. With progress made in this run (a resumable
 * job that had not begun a step when interrupted), it resumes from there as an interruption;
 * otherwise it is handed back (`released`, its payload unchanged) and runs again from the
 * start, as a job still running at the end of a shutdown's grace is. Events and perform
 * hooks see a retry due now.
 */
async function handBack(
  context: ExecutionContext,
  definition: JobDefinition,
  job: AnyJob,
  payload: JobPayload,
  reservation: Reservation,
  startedAt: number,
): Promise<Settlement> {
  const reason = job.signal.reason as JobInterruptRequestedError;
  const run = job.continuationRun;
  if (run?.advanced) return resume(context, definition, job, payload, reservation, reason, startedAt);
  context.runtime.events.emit("job:retry", { payload, error: reason, runAt: new Date(), workerId: context.workerId });
  const settlement: Settlement = { reservation, outcome: "released" };
  thrownErrors.set(settlement, reason);
  return settlement;
}

/** A run that stopped with progress to keep: re-enqueued to resume, or dead at the resumption limit (`resumption.ts`). */
async function resume(
  context: ExecutionContext,
  definition: JobDefinition,
  job: AnyJob,
  payload: JobPayload,
  reservation: Reservation,
  error: unknown,
  startedAt: number,
): Promise<Settlement> {
  const counters = payload.exceptionExecutions ?? (payload.executions > 0 ? undefined : {});
  const next: JobPayload = { ...payload, executions: job.executions, exceptionExecutions: { ...counters } };
  // An interruption is no failed attempt; an error resumed after progress is one.
  if (!(error instanceof JobInterruptedError) && !(error instanceof JobInterruptRequestedError)) next.attempts = withAttempt(payload.attempts, startedAt, error);
  const decided = resumption(job, definition, next, context.runtime.app);
  if (decided.kind === "dead") {
    await runAfterDiscard(context, definition, job, decided.error);
    return dead(context, reservation, decided.error, decided.payload);
  }
  context.runtime.events.emit("job:retry", { payload: decided.payload, error, runAt: decided.runAt, workerId: context.workerId });
  return failedWith({ reservation, outcome: "retry", payload: decided.payload, runAt: decided.runAt, error: toStoredError(error) }, error);
}

/**
 * Runs one reserved job and returns how it ended. Never throws.
 * @param signal - becomes the job's `this.signal` (aborted by the worker: shutdown, lost lease, an operator's abort or interrupt).
 * @param track - given the payload and the start (`performance.now()`) once the payload is read
 *   and its class found, before the job runs (a worker that reports what it runs passes its
 *   slot entry: no closure per job).
 */
export function executeReservation(
  context: ExecutionContext,
  reservation: Reservation,
  signal: SignalSource = NEVER_ABORTED,
  track?: RunTrack,
): Promise<Settlement> {
  // Not `async`: it hands on the promise of the function it calls. An async function that
  // returns a promise adds a promise and three microtask turns per job (measured: ~700
  // instructions per job of a no-op drain, callgrind, 100k jobs at concurrency 50).
  let payload: JobPayload;
  try {
    payload = decodePayload(reservation.body);
  } catch (error) {
    return deadUnread(context, reservation, error);
  }
  // The one check an uninstrumented perform pays.
  if (context.runtime.instrumentation.list.length > 0) return executeInstrumented(context, reservation, payload, signal, track);
  return executePayload(context, reservation, payload, signal, track);
}

/** A reservation whose payload could not be read: dead, with the reason. */
async function deadUnread(context: ExecutionContext, reservation: Reservation, error: unknown): Promise<Settlement> {
  return dead(context, reservation, error);
}

/** How a settlement ended, as perform hooks are told. */
function outcomeOf(settlement: Settlement): PerformOutcome {
  switch (settlement.outcome) {
    case "succeeded":
      return { outcome: "succeeded" };
    case "retry":
      return { outcome: "retry", error: originalError(settlement) ?? settlement.error, runAt: settlement.runAt };
    case "failed":
      return { outcome: "discarded", error: originalError(settlement) ?? settlement.error };
    case "dead":
      return { outcome: "dead", error: originalError(settlement) ?? settlement.error };
    default:
      // The executor releases a job only when an operator interrupted it (`handBack`): it runs again now.
      return { outcome: "retry", error: originalError(settlement) ?? new JobInterruptRequestedError(), runAt: new Date() };
  }
}

/** {@link executePayload} inside the perform hooks' scopes, telling them how it ended. */
async function executeInstrumented(
  context: ExecutionContext,
  reservation: Reservation,
  payload: JobPayload,
  signal: SignalSource,
  track: RunTrack | undefined,
): Promise<Settlement> {
  const scopes = context.runtime.instrumentation.startPerform({
    adapter: context.adapter ?? "unknown",
    payload,
    attempt: payload.executions + 1,
    workerId: context.workerId,
  });
  if (scopes.length === 0) return executePayload(context, reservation, payload, signal, track);
  const settlement = await runInScopes(scopes, () => executePayload(context, reservation, payload, signal, track));
  endScopes(scopes, outcomeOf(settlement));
  return settlement;
}

/** Runs a reserved job whose payload was read. Never throws. */
async function executePayload(
  context: ExecutionContext,
  reservation: Reservation,
  payload: JobPayload,
  signal: SignalSource,
  track: RunTrack | undefined,
): Promise<Settlement> {
  const { runtime, workerId } = context;
  const jobClass = runtime.registry.get(payload.job);
  if (!jobClass) return dead(context, reservation, runtime.registry.unknown(payload.job), payload);

  let definition: JobDefinition;
  try {
    definition = definitionOf(jobClass);
  } catch (error) {
    return dead(context, reservation, error, payload);
  }
  const executions = payload.executions + 1;
  const startedAt = performance.now();
  if (track) {
    track.payload = payload;
    track.startedAt = startedAt;
  }
  if (runtime.events.has("job:start")) runtime.events.emit("job:start", { payload, workerId });
  let job: AnyJob | undefined;
  try {
    const read = readArguments(payload.args);
    const args = Array.isArray(read) ? read : await read;
    const resolve = runtime.resolve;
    job = resolve === undefined ? restoreJob<AnyJob>(jobClass, args, payload.id) : await resolvedJob<AnyJob>(resolve, jobClass, args, payload.id);
    assignRunState(job, payload, executions, signal);
    job.providerJobId = reservation.providerJobId;
    job.savedProgress = payload.continuation;
    job.stopCheck = context.stopping;
    if (track) track.job = job;
    if (context.onProgress) {
      const onProgress = context.onProgress;
      const current = payload;
      job.reportProgress = (fraction, message) => onProgress(current, fraction, message, reservation);
    }
    const value = payload.timeoutMs === undefined && !hasPerformCallbacks(definition) ? await job.perform(...job.arguments) : await runPerform(job, definition, payload.timeoutMs);
    let result: string | undefined;
    try {
      result = serializeResult(value, runtime.app);
    } catch (error) {
      // The work is done: rerunning it because its return value cannot be stored would repeat side effects.
      runtime.events.emit("worker:error", { workerId, error });
    }
    if (runtime.events.has("job:complete")) {
      runtime.events.emit("job:complete", { payload, result: value, durationMs: performance.now() - startedAt, workerId });
    }
    return result === undefined ? { reservation, outcome: "succeeded" } : { reservation, outcome: "succeeded", result };
  } catch (error) {
    job ??= bareJob(jobClass, payload, executions, signal);
    try {
      return await decide(context, definition, job, payload, reservation, error, startedAt, track);
    } catch (decisionError) {
      return dead(context, reservation, decisionError, payload);
    }
  }
}

/** The id to file a reservation under when its payload cannot be read. */
export function reservationJobId(reservation: Reservation): string {
  return peekJobId(reservation.body) ?? reservation.providerJobId;
}
