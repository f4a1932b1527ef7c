/**
 * Callbacks around enqueue and perform. Before callbacks run, then around callbacks
 * wrap the step (the first declared is the outermost), then after callbacks run. All of
 * them run root class first, and within a class in the order written. A before or around
 * callback that throws stops the step and the error reaches the caller (enqueue) or the
 * job's error rules (perform). After callbacks run only when the step succeeded.
 *
 * @module
 */
import "reflect-metadata";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJob = any;

/** Runs before or after a step; may be async. */
export type Callback<J = AnyJob> = (job: J) => unknown;
/** Wraps a step: must call `next()` (once) for the step to happen, and may await it. */
export type AroundCallback<J = AnyJob> = (job: J, next: () => Promise<unknown>) => unknown;

/** The six callback kinds. */
export const CALLBACK_KINDS = [
  "beforeEnqueue",
  "afterEnqueue",
  "aroundEnqueue",
  "beforePerform",
  "afterPerform",
  "aroundPerform",
] as const;

/** One of {@link CALLBACK_KINDS}. */
export type CallbackKind = (typeof CALLBACK_KINDS)[number];

/** Resolved callbacks of a class. */
export interface CallbackSet {
  beforeEnqueue: Callback[];
  afterEnqueue: Callback[];
  aroundEnqueue: AroundCallback[];
  beforePerform: Callback[];
  afterPerform: Callback[];
  aroundPerform: AroundCallback[];
}

/** What {@link runWithCallbacks} reports: whether the step ran (an around callback may skip it) and its value. */
export interface CallbackRun<T> {
  ran: boolean;
  value: T | undefined;
}

/**
 * Runs `step` inside the before/around/after callbacks of one phase. An around callback
 * that does not call `next()` skips the step (and the after callbacks): that is not an
 * error. Without callbacks this is one direct call.
 */
export async function runWithCallbacks<T>(
  job: AnyJob,
  before: readonly Callback[],
  around: readonly AroundCallback[],
  after: readonly Callback[],
  step: () => Promise<T>,
): Promise<CallbackRun<T>> {
  if (before.length === 0 && around.length === 0 && after.length === 0) return { ran: true, value: await step() };
  for (const callback of before) await callback(job);
  let result: T | undefined;
  let ran = false;
  const invoke = async (index: number): Promise<unknown> => {
    if (index === around.length) {
      if (ran) throw new Error("an around callback called next() twice");
      ran = true;
      result = await step();
      return result;
    }
    return around[index]!(job, () => invoke(index + 1));
  };
  await invoke(0);
  if (!ran) return { ran: false, value: undefined };
  for (const callback of after) await callback(job);
  return { ran: true, value: result };
}
