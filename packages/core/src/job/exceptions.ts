/**
 * What happens when `perform` throws. Core decides; the adapter only stores the outcome.
 *
 * A job class has error rules (`retryOn`, `discardOn`, `rescueFrom`), matched in the
 * order they are written, the class's own before its ancestors'. The first rule whose
 * error class matches decides:
 *
 * - `rescueFrom`: the handler runs; if it returns, the job counts as succeeded; if it
 *   throws, that error is decided by the default policy.
 * - `discardOn`: the job is dropped (state `failed`), `afterDiscard` handlers run.
 * - `retryOn`: the job runs again after `wait` until errors of this rule have failed it
 *   `attempts` times; then it goes to the dead set and `afterDiscard` handlers run.
 * - no rule: the configured default policy (25 attempts, polynomial backoff), then the
 *   dead set.
 *
 * Each retry rule counts its own failures, as ActiveJob's `exception_executions` do: a
 * job failing with A, A, B, B under two rules of 3 attempts is retried, not dead. The
 * counts travel in the payload (`exceptionExecutions`), keyed by {@link ErrorRule} `key`
 * (the rule's error class names), so they survive a deploy and every backend stores them
 * with the rest of the retried payload. The default policy counts total executions.
 *
 * Names are the only key that survives a deploy, so a retry rule refuses an anonymous
 * error class, and a job class whose rules would share a key over different classes (a
 * minifier naming two of them `e`) is refused when its settings are resolved
 * (`settings.ts`); keep class names in minified builds.
 *
 * @module
 */
import type { Duration } from "../duration.js";
import { toMs } from "../duration.js";
import { ConfigError } from "../errors.js";

/** An error class to match with `instanceof`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ErrorClass = abstract new (...args: any[]) => unknown;

/**
 * How long to wait before the next attempt: ms, a duration string or object,
 * `"polynomial"` (n⁴ + 2 seconds: 3 s, 18 s, 83 s, 258 s…), `"exponential"` (2ⁿ seconds:
 * 2 s, 4 s, 8 s…), or a function of n. Under a `retryOn` rule, n is how many times errors of
 * that rule have failed the job, the failure just now included; under the default policy,
 * n is the job's total executions.
 */
export type RetryWait = Duration | "polynomial" | "exponential" | ((executions: number) => Duration);

/** Options of `retryOn`. */
export interface RetryOptions {
  /**
   * Runs this rule's errors may fail, the first run included: the job dies when errors of
   * this rule have failed it this many times (failures under other rules do not count).
   * `Infinity` retries until the job succeeds. Default 5.
   */
  attempts?: number;
  /** Wait before each retry. Default 3 s. */
  wait?: RetryWait;
  /** Random extra wait, as a fraction of the wait (0.15 adds up to 15 %). Default 0.15. */
  jitter?: number;
  /** Queue for the retries, when it should differ. */
  queue?: string;
  /** Priority for the retries, when it should differ. */
  priority?: number;
}

/** The default policy for errors no rule matches. */
export interface RetryPolicy {
  /** Total runs allowed, the first included. Default 25. */
  attempts: number;
  /** Default `"polynomial"`. */
  wait: RetryWait;
  /** Default 0.15. */
  jitter: number;
}

/** Default policy: as Sidekiq, 25 attempts spread over about three weeks. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 25, wait: "polynomial", jitter: 0.15 };

/** Handles an error for `rescueFrom`: returning means the job succeeded; throwing hands the new error to the default policy. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RescueHandler = (error: any, job: any) => unknown;

/**
 * One resolved error rule. A retry rule's `key` names its failure counter in the payload's
 * `exceptionExecutions`: its error class names joined with commas (`"ApiError,LimitError"`).
 */
export type ErrorRule =
  | { kind: "retry"; key: string; errors: ErrorClass[]; attempts: number; wait: RetryWait; jitter: number; queue?: string; priority?: number }
  | { kind: "discard"; errors: ErrorClass[] }
  | { kind: "rescue"; errors: ErrorClass[]; handler: RescueHandler };

function errorList(errors: ErrorClass | readonly ErrorClass[], where: string): ErrorClass[] {
  const list = Array.isArray(errors) ? [...errors] : [errors as ErrorClass];
  if (list.length === 0 || list.some((e) => typeof e !== "function")) {
    throw new ConfigError(`${where}: expected an error class or an array of error classes`);
  }
  return list;
}

const RETRY_OPTIONS: ReadonlySet<string> = new Set(["attempts", "wait", "jitter", "queue", "priority"]);

/** Builds a retry rule, validating its options. */
export function retryRule(errors: ErrorClass | readonly ErrorClass[], options: RetryOptions = {}, where = "retryOn"): ErrorRule {
  for (const key of Object.keys(options)) {
    if (!RETRY_OPTIONS.has(key)) throw new ConfigError(`${where}: unknown option "${key}" (expected ${[...RETRY_OPTIONS].join(", ")})`);
  }
  const attempts = options.attempts ?? 5;
  // Infinity is the one non-integer allowed: rules are never serialized, so it only meets `<`.
  if (attempts !== Infinity && (!Number.isInteger(attempts) || attempts < 1)) {
    throw new ConfigError(`${where}: attempts must be an integer >= 1 or Infinity, got ${String(attempts)}`);
  }
  const jitter = options.jitter ?? 0.15;
  // A fraction of the wait (backoffMs adds base * jitter * random): 2 may add up to twice the
  // wait, but NaN or Infinity would make the next run time NaN, and the job would die.
  if (typeof jitter !== "number" || !Number.isFinite(jitter) || jitter < 0) {
    throw new ConfigError(`${where}: jitter must be a finite number >= 0 (a fraction of the wait), got ${String(jitter)}`);
  }
  const wait = options.wait ?? 3000;
  validateWait(wait, `${where}: wait`);
  if (options.queue !== undefined && (typeof options.queue !== "string" || options.queue.length === 0)) {
    throw new ConfigError(`${where}: queue must be a non-empty string, got ${String(options.queue)}`);
  }
  if (options.priority !== undefined && !Number.isInteger(options.priority)) {
    throw new ConfigError(`${where}: priority must be an integer, got ${String(options.priority)}`);
  }
  const list = errorList(errors, where);
  const anonymous = list.find((errorClass) => !(errorClass as Function).name);
  if (anonymous) {
    throw new ConfigError(
      `${where}: an anonymous error class cannot be retried: the rule's failure counter is keyed by its error class names, and every anonymous class would share one; name the class (class ApiError extends Error {})`,
    );
  }
  const key = list.map((errorClass) => (errorClass as Function).name).join(",");
  const rule: ErrorRule = { kind: "retry", key, errors: list, attempts, wait, jitter };
  if (options.queue !== undefined) rule.queue = options.queue;
  if (options.priority !== undefined) rule.priority = options.priority;
  return rule;
}

/** How many times errors of the rule keyed `key` have failed the job before, from the payload's counters. */
export function ruleExecutions(counters: Readonly<Record<string, number>> | undefined, key: string): number {
  // Own keys only: a rule keyed "constructor" must not read Object.prototype.constructor.
  return counters !== undefined && Object.prototype.hasOwnProperty.call(counters, key) ? counters[key]! : 0;
}

/** Throws InvalidDurationError/ConfigError for a wait that can never work. */
export function validateWait(wait: RetryWait, where: string): void {
  if (wait === "polynomial" || wait === "exponential" || typeof wait === "function") return;
  toMs(wait, where);
}

/** Builds a discard rule. */
export function discardRule(errors: ErrorClass | readonly ErrorClass[], where = "discardOn"): ErrorRule {
  return { kind: "discard", errors: errorList(errors, where) };
}

/** Builds a rescue rule. */
export function rescueRule(errors: ErrorClass | readonly ErrorClass[], handler: RescueHandler, where = "rescueFrom"): ErrorRule {
  if (typeof handler !== "function") throw new ConfigError(`${where}: the handler must be a function`);
  return { kind: "rescue", errors: errorList(errors, where), handler };
}

type Errors = ErrorClass | readonly ErrorClass[];

/**
 * Static twin of `@retryOn`: `static retry = [[ApiError, { attempts: 5 }]]`. The array
 * form is accepted besides the tuple form because TypeScript infers a subclass's static
 * initializer without looking at the base class (`[[A, {...}]]` is not a tuple to it).
 */
export type StaticRetry = readonly (readonly [Errors, RetryOptions?] | readonly (Errors | RetryOptions)[])[];
/** Static twin of `@discardOn`: `static discard = [GoneError]`. */
export type StaticDiscard = readonly ErrorClass[];
/** Static twin of `@rescueFrom`: `static rescue = [[ApiError, (error, job) => ...]]`. */
export type StaticRescue = readonly (readonly [Errors, RescueHandler] | readonly (Errors | RescueHandler)[])[];

/** The rules a class declares through static fields (own fields only). Order: rescue, discard, retry. */
export function rulesFromStatics(target: Function, className: string): ErrorRule[] {
  const own = (key: string): unknown =>
    Object.prototype.hasOwnProperty.call(target, key) ? (target as unknown as Record<string, unknown>)[key] : undefined;
  const rules: ErrorRule[] = [];
  const rescue = own("rescue") as StaticRescue | undefined;
  const discard = own("discard") as StaticDiscard | undefined;
  const retry = own("retry") as StaticRetry | undefined;
  for (const [key, value] of [["rescue", rescue], ["discard", discard], ["retry", retry]] as const) {
    if (value !== undefined && !Array.isArray(value)) throw new ConfigError(`${className}.${key} must be an array`);
  }
  for (const entry of rescue ?? []) {
    const [errors, handler] = pair(entry, `${className}.rescue`, "[ErrorClass, handler]");
    rules.push(rescueRule(errors, handler as RescueHandler, `${className}.rescue`));
  }
  for (const entry of discard ?? []) rules.push(discardRule(entry, `${className}.discard`));
  for (const entry of retry ?? []) {
    const [errors, options] = pair(entry, `${className}.retry`, "[ErrorClass, { attempts, wait }]");
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      throw new ConfigError(`${className}.retry: each entry is [ErrorClass, { attempts, wait }]; the second item must be an options object`);
    }
    rules.push(retryRule(errors, options as RetryOptions | undefined, `${className}.retry`));
  }
  return rules;
}

/** Reads a `[errors, second]` static entry, checking its shape. */
function pair(entry: unknown, where: string, shape: string): [Errors, unknown] {
  if (!Array.isArray(entry) || entry.length < 1 || entry.length > 2) throw new ConfigError(`${where}: each entry must be ${shape}`);
  return [entry[0] as Errors, entry[1]];
}

/** The first rule matching `error`, skipping rescue rules when `skipRescue`. */
export function matchRule(rules: readonly ErrorRule[], error: unknown, skipRescue = false): ErrorRule | undefined {
  for (const rule of rules) {
    if (skipRescue && rule.kind === "rescue") continue;
    for (const errorClass of rule.errors) if (error instanceof errorClass) return rule;
  }
  return undefined;
}

/** Milliseconds to wait before the next attempt, jitter included. `executions` is the n of {@link RetryWait}, the failure just now included. */
export function backoffMs(wait: RetryWait, jitter: number, executions: number, random: () => number = Math.random): number {
  let base: number;
  if (wait === "polynomial") base = (executions ** 4 + 2) * 1000;
  else if (wait === "exponential") base = 2 ** executions * 1000;
  else if (typeof wait === "function") base = toMs(wait(executions), "retry wait function result");
  else base = toMs(wait, "retry wait");
  return Math.round(base + base * jitter * random());
}
