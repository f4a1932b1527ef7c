/**
 * The schemas of the adapter's and the status store's options, checked when either is
 * built: an unknown option or a value of the wrong kind is a `ConfigError` naming it.
 *
 * @module
 */
import { rules, validateOptions, type OptionSchema } from "@errand/core/adapter";

import type { RedisAdapterOptions } from "./adapter.js";
import type { RedisStatusStoreOptions } from "./status-store.js";

const client = rules.withMethods("an ioredis Redis or Cluster", "duplicate", "evalsha");

const ADAPTER_OPTIONS: OptionSchema<RedisAdapterOptions> = {
  url: rules.nonEmptyString,
  nodes: rules.arrayOf(rules.anyOf(rules.nonEmptyString, rules.object())),
  // ioredis's own options: ioredis reads them, Errand passes them through.
  clientOptions: rules.object(),
  client,
  prefix: rules.string,
  retentionMs: rules.number(0),
  maxFinished: rules.integer(0),
  publishStatus: rules.boolean,
  pollMs: rules.number(0),
  migrate: rules.boolean,
};

const STATUS_STORE_OPTIONS: OptionSchema<RedisStatusStoreOptions> = {
  url: rules.nonEmptyString,
  client,
  prefix: rules.string,
  finishedTtlMs: rules.number(0),
};

/** Checks `new RedisAdapter(options)` / `{ use: "redis", ...options }`. */
export function checkAdapterOptions(options: unknown): void {
  validateOptions(options, ADAPTER_OPTIONS, "the redis adapter options");
}

/** Checks `new RedisStatusStore(options)`. */
export function checkStatusStoreOptions(options: unknown): void {
  validateOptions(options, STATUS_STORE_OPTIONS, "the redis status store options");
}
