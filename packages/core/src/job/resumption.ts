/**
 * How a resumable job's run ends when it stopped with progress to keep: the payload it is
 * re-enqueued with, or the reason it ends dead. The executor (`execution.ts`) asks here
 * before its error rules' retry decision:
 *
 * - an interruption (a checkpoint found the job must stop) is always resumed;
 * - another error is resumed when the run made progress and the class keeps
 *   `resumeErrorsAfterAdvancing` (default true), after `rescueFrom` and `discardOn` rules
 *   had their say (a discarded error is discarded, a rescued one succeeds);
 * - each resumption counts in `continuation.resumptions`; the one past `maxResumptions`
 *   ends the job dead with {@link ResumptionLimitError}, its progress kept in the dead body.
 *
 * @module
 */
import { wallClockAt } from "../clock.js";
import { MAX_ATTEMPTS_KEPT, type AttemptRecord, type JobPayload } from "../adapter/payload.js";
import { JobInterruptedError, ResumptionLimitError, toStoredError } from "../errors.js";
import type { Job } from "./job.js";
import type { JobDefinition } from "./settings.js";

/** What the executor does with a run that stopped with progress to keep. */
export type Resumption =
  | { kind: "resume"; payload: JobPayload; runAt: Date }
  | { kind: "dead"; payload: JobPayload; error: ResumptionLimitError };

/**
 * Whether the run's end is a resumption: an interruption, or (when `afterRules`) an error
 * after progress under `resumeErrorsAfterAdvancing`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function resumes(job: Job<any, any>, definition: JobDefinition, error: unknown, afterRules: boolean): boolean {
  const run = job.continuationRun;
  if (run === undefined) return false;
  if (run.interruption !== undefined || error instanceof JobInterruptedError) return true;
  return afterRules && run.advanced && definition.continuation.resumeErrorsAfterAdvancing;
}

/**
 * The payload the job resumes with (progress saved, `executions` counted, the retry
 * counters carried as a retry carries them), or its death at the resumption limit.
 * @param next - the payload as a retry would write it (executions, counters, attempts).
 * @throws SerializationError when the current step's cursor cannot be stored.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function resumption(job: Job<any, any>, definition: JobDefinition, next: JobPayload, app: string): Resumption {
  const resumptions = (next.continuation?.resumptions ?? 0) + 1;
  const payload: JobPayload = { ...next, continuation: job.continuationRun!.saved(app, resumptions) };
  const { maxResumptions, resumeWaitMs } = definition.continuation;
  if (resumptions > maxResumptions) {
    return { kind: "dead", payload, error: new ResumptionLimitError(job.constructor.name, maxResumptions) };
  }
  const runAt = new Date(Date.now() + resumeWaitMs);
  payload.runAt = runAt.toISOString();
  return { kind: "resume", payload, runAt };
}

/** Runs of a payload that ended in a failure, not in a resumption: what the default retry policy counts. */
export function failedRuns(payload: JobPayload, executions: number): number {
  return executions - (payload.continuation?.resumptions ?? 0);
}

/** The run that failed, appended to the payload's `attempts` (the oldest dropped past {@link MAX_ATTEMPTS_KEPT}). */
export function withAttempt(attempts: readonly AttemptRecord[] | undefined, startedAt: number, error: unknown): AttemptRecord[] {
  const stored = toStoredError(error);
  const attempt: AttemptRecord = {
    startedAt: wallClockAt(startedAt).toISOString(),
    finishedAt: new Date().toISOString(),
    error: stored.code === undefined ? { name: stored.name, message: stored.message } : { name: stored.name, message: stored.message, code: stored.code },
  };
  const kept = attempts ?? [];
  return [...kept.slice(Math.max(0, kept.length - MAX_ATTEMPTS_KEPT + 1)), attempt];
}
