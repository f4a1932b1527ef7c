/**
 * Running `perform` itself: with the class's perform callbacks, under its timeout; and
 * `performNow`, which runs it here with the rescue and discard rules and no retry. The
 * executor (`execution.ts`) wraps this with everything a reserved job needs.
 *
 * @module
 */
import { linkAbort } from "../abort.js";
import { JobTimeoutError } from "../errors.js";
import { runWithCallbacks } from "./callbacks.js";
import { matchRule } from "./exceptions.js";
import type { Job } from "./job.js";
import { definitionOf, type JobDefinition } from "./settings.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJob = Job<any, any>;

/**
 * Whether perform has callbacks. Without them and without a timeout the executor calls
 * `perform` itself: the layers below (runPerform, runWithCallbacks, the step) were three
 * async calls and their awaits per job, ~900 instructions of a no-op drain with their garbage.
 */
export function hasPerformCallbacks({ callbacks }: JobDefinition): boolean {
  return callbacks.beforePerform.length > 0 || callbacks.aroundPerform.length > 0 || callbacks.afterPerform.length > 0;
}

/** Runs perform with its callbacks, under `timeoutMs` when given. */
export async function runPerform(job: AnyJob, definition: JobDefinition, timeoutMs: number | undefined): Promise<unknown> {
  const { callbacks } = definition;
  const step = () =>
    runWithCallbacks(job, callbacks.beforePerform, callbacks.aroundPerform, callbacks.afterPerform, async () =>
      job.perform(...job.arguments),
    );
  if (timeoutMs === undefined) return (await step()).value;
  const controller = new AbortController();
  const unlink = linkAbort(job.signal, controller);
  job.signal = controller.signal;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new JobTimeoutError(job.constructor.name, timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return (await Promise.race([step(), timedOut])).value;
  } finally {
    clearTimeout(timer);
    unlink();
  }
}

/**
 * `performNow`: runs the job in this process with its perform callbacks and its
 * rescue/discard rules. A discarded job resolves to `undefined`; other errors are thrown
 * (no retry is scheduled: the caller is right there).
 */
export async function performInline(job: AnyJob): Promise<unknown> {
  const definition = definitionOf(job.constructor);
  job.executions += 1;
  try {
    return await runPerform(job, definition, definition.timeoutMs);
  } catch (thrown) {
    let error = thrown;
    let rule = matchRule(definition.rules, error);
    if (rule?.kind === "rescue") {
      try {
        await rule.handler(error, job);
        return undefined;
      } catch (handlerError) {
        error = handlerError;
        rule = matchRule(definition.rules, error, true);
      }
    }
    if (rule?.kind === "discard") {
      for (const handler of definition.afterDiscard) await handler(job, error);
      return undefined;
    }
    throw error;
  }
}
