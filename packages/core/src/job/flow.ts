/**
 * Flow control as job classes declare it: `@unique`, `@limitConcurrency`, `@rateLimit` and
 * their static twins (`static unique`, `static concurrencyLimit`, `static rateLimit`).
 * Core checks the options when the decorator is applied (or the class is first used),
 * evaluates the key functions at enqueue, and writes the result into the payload's `flow`;
 * the backend decides (uniqueness at enqueue, limits at reserve). Semantics:
 * docs/flow-control.md.
 *
 * @module
 */
import { createHash } from "node:crypto";

import type { FlowControl, SerializedValue, UniqueWhile } from "../adapter/contract.js";
import { rules, validateOptions, type OptionSchema } from "../config/validate.js";
import { toMs, type Duration } from "../duration.js";
import { ConfigError } from "../errors.js";

/** A key: a string, or a function of the job's arguments returning one (evaluated at enqueue). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type FlowKey<A extends unknown[] = any[]> = string | ((...args: A) => string);

/** Options of `@unique` / `static unique`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface UniqueOptions<A extends unknown[] = any[]> {
  /**
   * What makes two jobs of this class the same: a function of the arguments returning a
   * string (or a fixed string). Default: all the arguments, as they are serialized.
   */
  key?: FlowKey<A>;
  /**
   * Which states of the job holding the key block a new one:
   * `"queued"` — until it starts; `"active"` — until it finishes (succeeded, failed or dead);
   * `"done"` — until it fails or dies, or `for` runs out after it succeeded (needs `for`).
   */
  while: UniqueWhile;
  /** The key is released this long after the holder was enqueued at the latest. Required with `while: "done"`. */
  for?: Duration;
}

/**
 * `static unique`: as {@link UniqueOptions}, with `while` any string, because TypeScript
 * widens a subclass's static initializer (`{ while: "queued" }` is `{ while: string }`)
 * without reading the base class's declaration. The value is checked when the class is
 * first used: anything but "queued", "active" or "done" is a `ConfigError`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StaticUnique<A extends unknown[] = any[]> = Omit<UniqueOptions<A>, "while"> & { while: UniqueWhile | (string & {}) };

/** Options of `@limitConcurrency` / `static concurrencyLimit`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface ConcurrencyOptions<A extends unknown[] = any[]> {
  /** Jobs with one key share the limit, across job classes, queues and workers. */
  key: FlowKey<A>;
  /** Most jobs with one key running at once. A positive integer. */
  limit: number;
}

/** Options of `@rateLimit` / `static rateLimit`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface RateLimitOptions<A extends unknown[] = any[]> {
  /** Most starts per window. A positive integer. */
  limit: number;
  /** The window: `"1s"`, `"1m"`, ms. */
  per: Duration;
  /** Jobs with one key share the limit. Default: the job class name. */
  key?: FlowKey<A>;
}

/** A class's flow settings, checked and normalized. */
export interface FlowSettings {
  unique?: { key: FlowKey | undefined; while: UniqueWhile; forMs: number | undefined };
  concurrency?: { key: FlowKey; limit: number };
  rateLimit?: { key: FlowKey | undefined; limit: number; perMs: number };
}

/** Longest key a backend is handed; longer ones are hashed (a key is compared, never read). */
export const MAX_KEY_LENGTH = 512;

const flowKey = { expected: "a string or a function of the arguments returning one", test: (value: unknown) => typeof value === "string" || typeof value === "function" };

const UNIQUE_SCHEMA: OptionSchema<UniqueOptions> = {
  key: flowKey,
  while: rules.oneOf("queued", "active", "done"),
  for: rules.duration,
};
const CONCURRENCY_SCHEMA: OptionSchema<ConcurrencyOptions> = { key: flowKey, limit: rules.integer(1) };
const RATE_SCHEMA: OptionSchema<RateLimitOptions> = { limit: rules.integer(1), per: rules.duration, key: flowKey };

function required(options: object, keys: readonly string[], where: string): void {
  for (const key of keys) {
    if ((options as Record<string, unknown>)[key] === undefined) throw new ConfigError(`${where}: "${key}" is required`);
  }
}

/** Checks `unique` options; throws `ConfigError` naming what is wrong. */
export function uniqueSettings(options: UniqueOptions, where: string): NonNullable<FlowSettings["unique"]> {
  validateOptions(options, UNIQUE_SCHEMA, where);
  required(options, ["while"], where);
  const forMs = options.for === undefined ? undefined : toMs(options.for, `${where} "for"`);
  if (forMs !== undefined && forMs < 1) throw new ConfigError(`${where}: "for" must be at least 1 ms`);
  if (options.while === "done" && forMs === undefined) {
    throw new ConfigError(`${where}: while "done" needs "for" (how long a succeeded job keeps blocking duplicates)`);
  }
  return { key: options.key, while: options.while, forMs };
}

/** Checks `limitConcurrency` options. */
export function concurrencySettings(options: ConcurrencyOptions, where: string): NonNullable<FlowSettings["concurrency"]> {
  validateOptions(options, CONCURRENCY_SCHEMA, where);
  required(options, ["key", "limit"], where);
  return { key: options.key, limit: options.limit };
}

/** Checks `rateLimit` options. */
export function rateLimitSettings(options: RateLimitOptions, where: string): NonNullable<FlowSettings["rateLimit"]> {
  validateOptions(options, RATE_SCHEMA, where);
  required(options, ["limit", "per"], where);
  const perMs = toMs(options.per, `${where} "per"`);
  if (perMs < 1) throw new ConfigError(`${where}: "per" must be at least 1 ms`);
  return { key: options.key, limit: options.limit, perMs };
}

/** A key's value for one job: the function's answer, checked. */
function evaluate(key: FlowKey, args: readonly unknown[], what: string): string {
  const value = typeof key === "function" ? key(...args) : key;
  if (typeof value !== "string" || value.length === 0) {
    throw new ConfigError(`${what}: the key function must return a non-empty string, got ${typeof value === "string" ? '""' : String(value)}`);
  }
  return value;
}

/** A key no longer than {@link MAX_KEY_LENGTH}: a longer one is replaced by its digest. */
function bounded(key: string): string {
  return key.length <= MAX_KEY_LENGTH ? key : `sha256:${createHash("sha256").update(key).digest("hex")}`;
}

/**
 * The default unique key: the serialized arguments themselves, `args:` + their JSON (the
 * `json` array alone when superjson added no `meta`, so it starts with `[`; the whole
 * `{json, meta}` otherwise, starting with `{`: the two forms never meet). Equal arguments
 * make equal keys, as superjson's output is deterministic. A key past
 * {@link MAX_KEY_LENGTH} is replaced by its digest by `bounded`, so only long arguments pay
 * for a hash. Measured (bench/flow/instructions.ts, bulk enqueue of 20k one-number jobs):
 * the SHA-256 of every job's arguments (a `Hash` object, `update`, `digest`, base64url)
 * was the largest single cost of a unique job's enqueue; see bench/flow/README.md.
 */
function argumentsKey(serializedArgs: SerializedValue): string {
  const { json, meta } = serializedArgs;
  return `args:${JSON.stringify(meta === undefined && Array.isArray(json) ? json : serializedArgs)}`;
}

/**
 * The payload's `flow` for one job of a class with `settings`, or undefined when it has
 * none. `serializedArgs` is the payload's `args`: the default unique key is made of it.
 */
export function flowFor(settings: FlowSettings | undefined, jobName: string, args: readonly unknown[], serializedArgs: SerializedValue): FlowControl | undefined {
  if (settings === undefined) return undefined;
  const flow: FlowControl = {};
  const { unique, concurrency, rateLimit } = settings;
  if (unique) {
    const key = unique.key === undefined ? argumentsKey(serializedArgs) : evaluate(unique.key, args, `${jobName} unique`);
    flow.unique = unique.forMs === undefined
      ? { key: bounded(`${jobName}:${key}`), while: unique.while }
      : { key: bounded(`${jobName}:${key}`), while: unique.while, forMs: unique.forMs };
  }
  if (concurrency) flow.concurrency = { key: bounded(evaluate(concurrency.key, args, `${jobName} limitConcurrency`)), limit: concurrency.limit };
  if (rateLimit) {
    const key = rateLimit.key === undefined ? jobName : evaluate(rateLimit.key, args, `${jobName} rateLimit`);
    flow.rateLimit = { key: bounded(key), limit: rateLimit.limit, perMs: rateLimit.perMs };
  }
  return flow;
}
