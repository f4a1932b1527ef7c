/**
 * What an operator may do to jobs, by state, and what each action calls on the backend:
 *
 * | state | actions | through |
 * | --- | --- | --- |
 * | `dead` | retry, discard | the dead set (`retryDead`, `purgeDead`) |
 * | `retrying` | retry now, discard | `changeJobs` runNow, cancel |
 * | `scheduled` | run now, cancel | `changeJobs` runNow, cancel |
 * | `queued` | cancel | `changeJobs` cancel |
 * | `running` | abort, interrupt | `changeJobs` abort (its `this.signal` fires), interrupt (handed back, or resumed from its progress) |
 *
 * Discarding a retrying job cancels it: its status reads `failed` (`JobCancelledError`),
 * as a discarded job's does.
 *
 * @module
 */
import type { JobState } from "@errand/core";

import type { Backend } from "./context.js";

/** An action on jobs, as forms name it. */
export type JobActionName = "retry" | "discard" | "runNow" | "cancel" | "abort" | "interrupt";

/** How an action reads and what it needs. */
export interface ActionText {
  /** The button: "Retry". */
  label: string;
  /** The notice after it: `retried`. */
  notice: string;
  /** Asks before acting, even for one job. */
  destructive: boolean;
  /** Describes the effect on the confirmation page. */
  effect: string;
}

/** The actions on jobs in each state. */
export const STATE_ACTIONS: Readonly<Partial<Record<JobState, readonly JobActionName[]>>> = {
  dead: ["retry", "discard"],
  retrying: ["retry", "discard"],
  scheduled: ["runNow", "cancel"],
  queued: ["cancel"],
  running: ["abort", "interrupt"],
};

/** Texts of each action. */
export const ACTIONS: Readonly<Record<JobActionName, ActionText>> = {
  retry: { label: "Retry", notice: "retried", destructive: false, effect: "run again now, with fresh attempts for dead jobs" },
  discard: { label: "Discard", notice: "discarded", destructive: true, effect: "be removed for good (dead jobs are deleted; retrying jobs are cancelled and read failed)" },
  runNow: { label: "Run now", notice: "ranNow", destructive: false, effect: "become due now" },
  cancel: { label: "Cancel", notice: "cancelled", destructive: true, effect: "be taken out of their queue for good (their status reads failed, JobCancelledError)" },
  abort: { label: "Abort", notice: "aborted", destructive: true, effect: "be aborted: their signal fires within about a second and they end failed (JobAbortedError)" },
  // Not destructive: the job is kept and runs again (a resumable one from its progress).
  interrupt: {
    label: "Interrupt",
    notice: "interrupted",
    destructive: false,
    effect: "be interrupted within about a second, as a deploy would: a resumable job resumes from its progress, another runs again from the start",
  },
};

/** True when `action` applies to jobs in `state`. */
export function allowed(state: JobState, action: JobActionName): boolean {
  return STATE_ACTIONS[state]?.includes(action) ?? false;
}

/** True when the action goes through `changeJobs` (the backend's `control` capability). */
export function needsControl(state: JobState, action: JobActionName): boolean {
  return !(state === "dead" && (action === "retry" || action === "discard"));
}

/**
 * Applies `action` to jobs believed to be in `state`; resolves to how many it applied to
 * (jobs that moved on meanwhile are left alone by the backend and not counted).
 */
export async function applyAction(backend: Backend, state: JobState, action: JobActionName, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  if (state === "dead") return action === "retry" ? backend.dead.retry(ids) : backend.dead.purge(ids);
  switch (action) {
    case "retry":
    case "runNow":
      return (await backend.jobs.runNow(ids)).length;
    case "discard":
    case "cancel":
      return (await backend.jobs.cancel(ids)).length;
    case "abort":
      return (await backend.jobs.abort(ids)).length;
    case "interrupt":
      return (await backend.jobs.interrupt(ids)).length;
  }
}
