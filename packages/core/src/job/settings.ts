/**
 * Where a job class's settings come from. Every setting can be given by a decorator
 * (stored with reflect-metadata) or by its static-field twin, and is inherited by
 * subclasses. Scalars (queue, priority, timeout, adapter) take the nearest definition
 * up the class chain. Lists (error rules, callbacks) are collected down the chain; within
 * one class, decorators come first in the order they are written, then the static field.
 *
 * The resolved settings of a class are computed once and cached; applying a decorator
 * later clears the cache.
 *
 * @module
 */
import "reflect-metadata";

import type { Duration } from "../duration.js";
import { toMs } from "../duration.js";
import { ConfigError } from "../errors.js";
import type { CallbackKind, CallbackSet } from "./callbacks.js";
import { CALLBACK_KINDS } from "./callbacks.js";
import type { ErrorRule } from "./exceptions.js";
import { rulesFromStatics } from "./exceptions.js";
import { concurrencySettings, rateLimitSettings, uniqueSettings, type FlowSettings } from "./flow.js";

/** A queue name, or a function of the job instance returning one (evaluated at enqueue). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type QueueSetting = string | ((job: any) => string);

/** A priority (integer, lower runs first), or a function of the job instance returning one (evaluated at enqueue). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PrioritySetting = number | ((job: any) => number);

/** Handler run when a job is discarded or dies after its last attempt. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AfterDiscardHandler = (job: any, error: any) => unknown;

const META = {
  queue: "errand:queue",
  priority: "errand:priority",
  timeout: "errand:timeout",
  adapter: "errand:adapter",
  rules: "errand:rules",
  afterDiscard: "errand:after-discard",
  callbacks: "errand:callbacks",
  unique: "errand:unique",
  concurrencyLimit: "errand:concurrency-limit",
  rateLimit: "errand:rate-limit",
} as const;

/** Everything core needs to know about a job class, resolved once. */
export interface JobDefinition {
  queue: QueueSetting | undefined;
  /** A number, or a function resolved per job at enqueue (its result is checked there). */
  priority: PrioritySetting;
  timeoutMs: number | undefined;
  adapter: string | undefined;
  /** Error rules in matching order: the class's own first (as written), then its ancestors'. */
  rules: ErrorRule[];
  afterDiscard: AfterDiscardHandler[];
  callbacks: CallbackSet;
  /** Unique key, concurrency and rate limits; undefined when the class has none. */
  flow: FlowSettings | undefined;
  /**
   * `static enqueueAfterCommit` (nearest up the chain; default true): false enqueues at once
   * even inside `withTransaction` (docs/transactions.md).
   */
  enqueueAfterCommit: boolean;
  /** How a resumable job (`this.step`) is resumed: `maxResumptions`, `resumeWait`, `resumeErrorsAfterAdvancing`. */
  continuation: ContinuationSettings;
}

/** A resumable job's settings, resolved (docs/long-jobs.md). */
export interface ContinuationSettings {
  /** Resumptions allowed; the next interruption ends the job dead. Default Infinity. */
  maxResumptions: number;
  /** Wait before a resumed run, in ms. Default 5,000 (ActiveJob's 5 seconds). */
  resumeWaitMs: number;
  /** Whether an error after progress resumes from the last checkpoint (default true) or is a plain failure. */
  resumeErrorsAfterAdvancing: boolean;
}

// ActiveJob waits 5 seconds before a resumed run: long enough for a deploy's new workers
// to come up, short enough that a person does not notice.
const DEFAULT_RESUME_WAIT_MS = 5000;

let cache = new WeakMap<Function, JobDefinition>();

/** Class chain from the given class up to (excluding) Object/Function. */
function chain(jobClass: Function): Function[] {
  const classes: Function[] = [];
  for (let c: Function | null = jobClass; c && c !== Function.prototype; c = Object.getPrototypeOf(c) as Function | null) {
    classes.push(c);
  }
  return classes;
}

function ownStatic(target: Function, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(target, key) ? (target as unknown as Record<string, unknown>)[key] : undefined;
}

function nearest(classes: Function[], metaKey: string, staticKey: string): unknown {
  for (const c of classes) {
    if (Reflect.hasOwnMetadata(metaKey, c)) return Reflect.getOwnMetadata(metaKey, c);
    const value = ownStatic(c, staticKey);
    if (value !== undefined) return value;
  }
  return undefined;
}

function asArray<T>(value: T | readonly T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? [...(value as readonly T[])] : [value as T];
}

/** Resolves (and caches) a job class's settings. */
export function definitionOf(jobClass: Function): JobDefinition {
  let definition = cache.get(jobClass);
  if (definition) return definition;
  const classes = chain(jobClass);
  const className = jobClass.name || "job";

  const priority = nearest(classes, META.priority, "priority") ?? 0;
  if (typeof priority !== "function" && (typeof priority !== "number" || !Number.isInteger(priority))) {
    throw new ConfigError(`${className}: priority must be an integer or a function, got ${String(priority)}`);
  }
  const timeout = nearest(classes, META.timeout, "timeout") as Duration | undefined;
  const rules: ErrorRule[] = [];
  for (const c of classes) {
    rules.push(...((Reflect.getOwnMetadata(META.rules, c) as ErrorRule[] | undefined) ?? []), ...rulesFromStatics(c, className));
  }
  refuseSharedKeys(rules, className);
  const rootFirst = [...classes].reverse();
  const afterDiscard: AfterDiscardHandler[] = [];
  const callbacks = Object.fromEntries(CALLBACK_KINDS.map((kind) => [kind, [] as unknown[]])) as unknown as CallbackSet;
  for (const c of rootFirst) {
    afterDiscard.push(
      ...((Reflect.getOwnMetadata(META.afterDiscard, c) as AfterDiscardHandler[] | undefined) ?? []),
      ...asArray(ownStatic(c, "afterDiscard") as AfterDiscardHandler | AfterDiscardHandler[] | undefined),
    );
    const own = Reflect.getOwnMetadata(META.callbacks, c) as Partial<CallbackSet> | undefined;
    for (const kind of CALLBACK_KINDS) {
      (callbacks[kind] as unknown[]).push(...(own?.[kind] ?? []), ...asArray(ownStatic(c, kind) as never));
    }
  }
  for (const [kind, list] of Object.entries(callbacks) as [CallbackKind, unknown[]][]) {
    for (const fn of list) {
      if (typeof fn !== "function") throw new ConfigError(`${className}: ${kind} callbacks must be functions`);
    }
  }
  definition = {
    queue: nearest(classes, META.queue, "queue") as QueueSetting | undefined,
    priority: priority as PrioritySetting,
    timeoutMs: timeout === undefined ? undefined : toMs(timeout, `${className}.timeout`),
    adapter: nearest(classes, META.adapter, "adapter") as string | undefined,
    rules,
    afterDiscard,
    callbacks,
    flow: flowSettings(classes, className),
    enqueueAfterCommit: enqueueAfterCommitOf(classes, className),
    continuation: continuationSettings(classes, className),
  };
  cache.set(jobClass, definition);
  return definition;
}

/** The nearest `static enqueueAfterCommit`, checked: a boolean. */
function enqueueAfterCommitOf(classes: Function[], className: string): boolean {
  for (const c of classes) {
    const value = ownStatic(c, "enqueueAfterCommit");
    if (value === undefined) continue;
    if (typeof value !== "boolean") throw new ConfigError(`${className}: enqueueAfterCommit must be true or false, got ${String(value)}`);
    return value;
  }
  return true;
}

/** The nearest `static maxResumptions`, `resumeWait` and `resumeErrorsAfterAdvancing`, each checked. */
function continuationSettings(classes: Function[], className: string): ContinuationSettings {
  const nearestStatic = (key: string): unknown => {
    for (const c of classes) {
      const value = ownStatic(c, key);
      if (value !== undefined) return value;
    }
    return undefined;
  };
  const max = nearestStatic("maxResumptions") ?? Infinity;
  if (max !== Infinity && !(Number.isInteger(max) && (max as number) >= 0)) {
    throw new ConfigError(`${className}: maxResumptions must be an integer >= 0 or Infinity, got ${String(max)}`);
  }
  const wait = nearestStatic("resumeWait") as Duration | undefined;
  const resumeErrors = nearestStatic("resumeErrorsAfterAdvancing") ?? true;
  if (typeof resumeErrors !== "boolean") throw new ConfigError(`${className}: resumeErrorsAfterAdvancing must be true or false, got ${String(resumeErrors)}`);
  return {
    maxResumptions: max as number,
    resumeWaitMs: wait === undefined ? DEFAULT_RESUME_WAIT_MS : toMs(wait, `${className}.resumeWait`),
    resumeErrorsAfterAdvancing: resumeErrors,
  };
}

/**
 * The nearest `@unique`, `@limitConcurrency` and `@rateLimit` up the class chain, each on its
 * own (a subclass may add a rate limit to its parent's uniqueness). Decorators store checked
 * settings; a static twin is checked here, where its class is first used.
 */
function flowSettings(classes: Function[], className: string): FlowSettings | undefined {
  const pick = <T>(metaKey: string, staticKey: string, check: (options: never, where: string) => T): T | undefined => {
    for (const c of classes) {
      if (Reflect.hasOwnMetadata(metaKey, c)) return Reflect.getOwnMetadata(metaKey, c) as T;
      const value = ownStatic(c, staticKey);
      if (value !== undefined) return check(value as never, `${className}.${staticKey}`);
    }
    return undefined;
  };
  const unique = pick(META.unique, "unique", uniqueSettings);
  const concurrency = pick(META.concurrencyLimit, "concurrencyLimit", concurrencySettings);
  const rateLimit = pick(META.rateLimit, "rateLimit", rateLimitSettings);
  if (!unique && !concurrency && !rateLimit) return undefined;
  return { ...(unique && { unique }), ...(concurrency && { concurrency }), ...(rateLimit && { rateLimit }) };
}

/**
 * Two retry rules of one job share a failure counter when their keys (error class names)
 * are equal. Over the same classes that is meant (a child re-declaring its parent's rule);
 * over different classes of one name (a minifier's `e` and `e`) the counts would mix.
 */
function refuseSharedKeys(rules: readonly ErrorRule[], className: string): void {
  const byKey = new Map<string, readonly Function[]>();
  for (const rule of rules) {
    if (rule.kind !== "retry") continue;
    const seen = byKey.get(rule.key);
    if (seen === undefined) byKey.set(rule.key, rule.errors);
    else if (seen.length !== rule.errors.length || seen.some((errorClass, index) => errorClass !== rule.errors[index])) {
      throw new ConfigError(
        `${className}: two retry rules over different error classes named "${rule.key}" would share one failure counter (it is keyed by class names); rename a class, or keep class names when minifying`,
      );
    }
  }
}

/** Target of a class decorator under either decorator proposal. */
type DecoratorTarget = Function;

/** Sets a scalar setting on a class (decorator helper). */
export function setOwnSetting(
  target: DecoratorTarget,
  key: "queue" | "priority" | "timeout" | "adapter" | "unique" | "concurrencyLimit" | "rateLimit",
  value: unknown,
): void {
  Reflect.defineMetadata(META[key], value, target);
  cache = new WeakMap();
}

/**
 * Adds to a list setting of a class. Decorators are applied bottom-up, so each one
 * prepends: the stored order is the order in which they are written.
 */
export function prependOwnList(target: DecoratorTarget, key: "rules" | "afterDiscard", item: unknown): void {
  const list = (Reflect.getOwnMetadata(META[key], target) as unknown[] | undefined) ?? [];
  Reflect.defineMetadata(META[key], [item, ...list], target);
  cache = new WeakMap();
}

/** Adds a callback to a class (decorator helper); same ordering as {@link prependOwnList}. */
export function prependOwnCallback(target: DecoratorTarget, kind: CallbackKind, fn: Function): void {
  const own = (Reflect.getOwnMetadata(META.callbacks, target) as Partial<Record<CallbackKind, Function[]>> | undefined) ?? {};
  Reflect.defineMetadata(META.callbacks, { ...own, [kind]: [fn, ...(own[kind] ?? [])] }, target);
  cache = new WeakMap();
}
