/**
 * Class decorators for job settings. Each works under `experimentalDecorators` (legacy,
 * called with the class) and under TC39 standard decorators (called with the class and a
 * context), and each has a static-field twin for code without decorators:
 *
 * | decorator | static twin |
 * | --- | --- |
 * | `@queueAs("reports")` | `static queue = "reports"` |
 * | `@queueWithPriority(10)` or `@queueWithPriority((job) => …)` | `static priority = 10` or `(job) => …` |
 * | `@retryOn(E, { attempts: 5 })` | `static retry = [[E, { attempts: 5 }]]` |
 * | `@discardOn(E)` | `static discard = [E]` |
 * | `@rescueFrom(E, handler)` | `static rescue = [[E, handler]]` |
 * | `@afterDiscard(handler)` | `static afterDiscard = [handler]` |
 * | `@timeout("30s")` | `static timeout = "30s"` |
 * | `@useAdapter("sqs")` | `static adapter = "sqs"` |
 * | `@beforePerform(fn)` etc. | `static beforePerform = [fn]` etc. |
 * | `@unique({ while: "queued" })` | `static unique = { while: "queued" }` |
 * | `@limitConcurrency({ key, limit: 1 })` | `static concurrencyLimit = { key, limit: 1 }` |
 * | `@rateLimit({ limit: 10, per: "1s" })` | `static rateLimit = { limit: 10, per: "1s" }` |
 *
 * @module
 */
import type { Duration } from "../duration.js";
import { toMs } from "../duration.js";
import { ConfigError } from "../errors.js";
import type { AroundCallback, Callback, CallbackKind } from "./callbacks.js";
import type { ErrorClass, RescueHandler, RetryOptions } from "./exceptions.js";
import { discardRule, rescueRule, retryRule } from "./exceptions.js";
import { concurrencySettings, rateLimitSettings, uniqueSettings, type ConcurrencyOptions, type RateLimitOptions, type UniqueOptions } from "./flow.js";
import type { AfterDiscardHandler, PrioritySetting, QueueSetting } from "./settings.js";
import { prependOwnCallback, prependOwnList, setOwnSetting } from "./settings.js";

/** A class decorator usable under both decorator proposals. */
export type JobClassDecorator = (target: Function, context?: unknown) => void;

function classDecorator(name: string, apply: (target: Function) => void): JobClassDecorator {
  return (target: Function, context?: unknown) => {
    if (typeof target !== "function") throw new ConfigError(`@${name} decorates job classes only`);
    if (context !== undefined && (context as { kind?: string }).kind !== "class") {
      throw new ConfigError(`@${name} decorates job classes only, not a ${(context as { kind?: string }).kind}`);
    }
    apply(target);
  };
}

/**
 * Sets the job's queue: a name, or a function of the job (with its `arguments`) evaluated
 * at enqueue. `queueNamePrefix` from config is prepended. Default queue: `"default"`.
 */
export function queueAs(queue: QueueSetting): JobClassDecorator {
  if (typeof queue !== "function" && (typeof queue !== "string" || queue.length === 0)) {
    throw new ConfigError(`@queueAs: expected a queue name or a function, got ${String(queue)}`);
  }
  return classDecorator("queueAs", (target) => setOwnSetting(target, "queue", queue));
}

/**
 * Sets the job's priority: an integer, or a function of the job (with its `arguments`)
 * evaluated at enqueue, which must return one. Lower numbers run first (as in ActiveJob
 * and Sidekiq); default 0. `set({ priority })` wins over both.
 *
 * @example
 * \@queueWithPriority((job: ReportJob) => (job.arguments[0].plan === "pro" ? 0 : 10))
 */
export function queueWithPriority(priority: PrioritySetting): JobClassDecorator {
  if (typeof priority !== "function" && !Number.isInteger(priority)) {
    throw new ConfigError(`@queueWithPriority: expected an integer or a function, got ${String(priority)}`);
  }
  return classDecorator("queueWithPriority", (target) => setOwnSetting(target, "priority", priority));
}

/**
 * Retries the job when `perform` throws one of `errors`, up to `attempts` runs in all,
 * waiting `wait` (with `jitter`) between runs; then the job goes to the dead set.
 *
 * @example
 * \@retryOn(ApiTimeoutError, { attempts: 5, wait: "polynomial" })
 */
export function retryOn(errors: ErrorClass | readonly ErrorClass[], options?: RetryOptions): JobClassDecorator {
  const rule = retryRule(errors, options);
  return classDecorator("retryOn", (target) => prependOwnList(target, "rules", rule));
}

/** Drops the job (no retry, no dead set) when `perform` throws one of `errors`; `afterDiscard` handlers run. */
export function discardOn(errors: ErrorClass | readonly ErrorClass[]): JobClassDecorator {
  const rule = discardRule(errors);
  return classDecorator("discardOn", (target) => prependOwnList(target, "rules", rule));
}

/** Handles `errors` with `handler(error, job)`: if it returns, the job counts as succeeded. */
export function rescueFrom(errors: ErrorClass | readonly ErrorClass[], handler: RescueHandler): JobClassDecorator {
  const rule = rescueRule(errors, handler);
  return classDecorator("rescueFrom", (target) => prependOwnList(target, "rules", rule));
}

/** Runs `handler(job, error)` when the job is discarded or dies after its last attempt. */
export function afterDiscard(handler: AfterDiscardHandler): JobClassDecorator {
  if (typeof handler !== "function") throw new ConfigError("@afterDiscard: the handler must be a function");
  return classDecorator("afterDiscard", (target) => prependOwnList(target, "afterDiscard", handler));
}

/** Aborts `this.signal` and fails the attempt (`JobTimeoutError`) when `perform` runs longer than `duration`. */
export function timeout(duration: Duration): JobClassDecorator {
  toMs(duration, "@timeout");
  return classDecorator("timeout", (target) => setOwnSetting(target, "timeout", duration));
}

/** Pins the job class to a named adapter from config (`adapters: { sqs: ... }`) or an adapter kind. */
export function useAdapter(name: string): JobClassDecorator {
  if (typeof name !== "string" || !name) throw new ConfigError("@useAdapter: expected an adapter name");
  return classDecorator("useAdapter", (target) => setOwnSetting(target, "adapter", name));
}

/**
 * Makes the job unique: while a job of this class with the same key is in a state `while`
 * blocks (and `for` has not run out), enqueuing another stores nothing and returns the
 * existing job's id with `duplicate: true`. Decided atomically by the backend at enqueue.
 *
 * @example
 * \@unique({ key: (user: User) => user.id, while: "active" })
 */
export function unique(options: UniqueOptions): JobClassDecorator {
  const settings = uniqueSettings(options, "@unique");
  return classDecorator("unique", (target) => setOwnSetting(target, "unique", settings));
}

/**
 * At most `limit` jobs with one key run at once, across every worker; the others wait
 * (state `queued`) without failing until a slot frees.
 *
 * @example
 * \@limitConcurrency({ key: (account: Account) => `account:${account.id}`, limit: 1 })
 */
export function limitConcurrency(options: ConcurrencyOptions): JobClassDecorator {
  const settings = concurrencySettings(options, "@limitConcurrency");
  return classDecorator("limitConcurrency", (target) => setOwnSetting(target, "concurrencyLimit", settings));
}

/**
 * At most `limit` jobs with one key (default: the class) start per `per`, across every
 * worker; the excess waits (state `queued`), it does not fail.
 *
 * @example
 * \@rateLimit({ limit: 10, per: "1s" })
 */
export function rateLimit(options: RateLimitOptions): JobClassDecorator {
  const settings = rateLimitSettings(options, "@rateLimit");
  return classDecorator("rateLimit", (target) => setOwnSetting(target, "rateLimit", settings));
}

function callbackDecorator(kind: CallbackKind) {
  return (fn: Function): JobClassDecorator => {
    if (typeof fn !== "function") throw new ConfigError(`@${kind}: expected a function`);
    return classDecorator(kind, (target) => prependOwnCallback(target, kind, fn));
  };
}

/** Runs `fn(job)` before the job is enqueued; throwing stops the enqueue. */
export const beforeEnqueue: (fn: Callback) => JobClassDecorator = callbackDecorator("beforeEnqueue");
/** Runs `fn(job)` after the job was stored. */
export const afterEnqueue: (fn: Callback) => JobClassDecorator = callbackDecorator("afterEnqueue");
/** Wraps the enqueue: `fn(job, next)`; not calling `next()` skips it. */
export const aroundEnqueue: (fn: AroundCallback) => JobClassDecorator = callbackDecorator("aroundEnqueue");
/** Runs `fn(job)` before `perform`; throwing fails the attempt. */
export const beforePerform: (fn: Callback) => JobClassDecorator = callbackDecorator("beforePerform");
/** Runs `fn(job)` after `perform` succeeded. */
export const afterPerform: (fn: Callback) => JobClassDecorator = callbackDecorator("afterPerform");
/** Wraps `perform`: `fn(job, next)`; not calling `next()` skips it. */
export const aroundPerform: (fn: AroundCallback) => JobClassDecorator = callbackDecorator("aroundPerform");
