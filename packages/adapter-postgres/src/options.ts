/**
 * The schemas of the adapter's and the status store's options, checked when either is
 * built: an unknown option or a value of the wrong kind is a `ConfigError` naming it.
 *
 * @module
 */
import { rules, validateOptions, type OptionSchema } from "@errand/core/adapter";

import type { PostgresAdapterOptions } from "./adapter.js";
import type { PostgresStatusStoreOptions } from "./status-store.js";

const pool = rules.withMethods("a pg.Pool", "query", "connect");

const ADAPTER_OPTIONS: OptionSchema<PostgresAdapterOptions> = {
  url: rules.nonEmptyString,
  pool,
  schema: rules.nonEmptyString,
  poolSize: rules.integer(1),
  statementTimeoutMs: rules.number(0),
  migrate: rules.boolean,
  retentionMs: rules.number(0),
  maxFinished: rules.integer(0),
  leaseCheckMs: rules.number(0),
  retentionCheckMs: rules.number(0),
  publishStatus: rules.boolean,
};

const STATUS_STORE_OPTIONS: OptionSchema<PostgresStatusStoreOptions> = {
  url: rules.nonEmptyString,
  pool,
  schema: rules.nonEmptyString,
  finishedTtlMs: rules.number(0),
  migrate: rules.boolean,
};

/** Checks `new PostgresAdapter(options)` / `{ use: "postgres", ...options }`. */
export function checkAdapterOptions(options: unknown): void {
  validateOptions(options, ADAPTER_OPTIONS, "the postgres adapter options");
}

/** Checks `new PostgresStatusStore(options)`. */
export function checkStatusStoreOptions(options: unknown): void {
  validateOptions(options, STATUS_STORE_OPTIONS, "the postgres status store options");
}
