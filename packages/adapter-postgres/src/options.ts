/**
 * The adapter's options, and the schemas of its and the status store's options, checked when either is
 * built: an unknown option or a value of the wrong kind is a `ConfigError` naming it.
 *
 * @module
 */
import type pg from "pg";

import { rules, validateOptions, type OptionSchema } from "@errand/core/adapter";

import type { PostgresStatusStoreOptions } from "./status-store.js";

/** Options of the PostgreSQL adapter (`adapter: { use: "postgres", ... }`). */
export interface PostgresAdapterOptions {
  /** Connection URL (`postgres://user:pass@host:5432/db`). Give this or `pool`. */
  url?: string;
  /** The app's own `pg.Pool`; Errand uses it and does not end it on close. */
  pool?: pg.Pool;
  /** Schema holding Errand's tables. Default `"errand"`. */
  schema?: string;
  /** Pool size when Errand makes the pool from `url`. Default 10. */
  poolSize?: number;
  /** `statement_timeout` for Errand's connections, in ms. Default 30,000; 0 disables. */
  statementTimeoutMs?: number;
  /** Apply pending migrations on first use. Default true; set false to run `errand migrate` yourself. */
  migrate?: boolean;
  /** Keep finished (succeeded, discarded) jobs this long, in ms. Default 24 h. Dead jobs stay until purged. */
  retentionMs?: number;
  /**
   * Keep at most about this many finished jobs. Default 100,000. Approximate: retention
   * deletes the finished jobs of whole reserve batches, oldest first, beyond the newest
   * batches that leased this many jobs (retried and dead jobs of a batch count too), so up to
   * one batch (`maxPrefetch`, 1,000) more or fewer may be kept.
   */
  maxFinished?: number;
  /** How often reserve looks for expired leases, in ms. Default 1,000. */
  leaseCheckMs?: number;
  /**
   * How often reserve deletes finished jobs past retention, in ms. Default 60,000. A step
   * deletes up to 2,000; while steps come back full, another runs at the first reserve
   * after four times the last one's duration.
   */
  retentionCheckMs?: number;
  /**
   * NOTIFY the ids of jobs whose status changed on `errand:<schema>:status` (JSON arrays of
   * ids, about 200 per notification), which status feeds (`openStatusFeed`) LISTEN to.
   * Default true; false also turns off `capabilities.statusFeed`.
   */
  publishStatus?: boolean;
  /**
   * What jobs made inside the app's transaction (`withTransaction`, the `transaction`
   * helper) do. `"join"` (default): written through the transaction's own connection, so the
   * job and its NOTIFY exist only at commit; Errand's schema must then be in the app's
   * database. `"after-commit"`: kept in memory and enqueued on this adapter's pool after the
   * commit, for apps whose own database is not the jobs' database (this also turns off
   * `capabilities.transactionalEnqueue`, so `set({ transaction })` is refused).
   */
  transactions?: "join" | "after-commit";
}

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
  transactions: rules.oneOf("join", "after-commit"),
};

const STATUS_STORE_OPTIONS: OptionSchema<PostgresStatusStoreOptions> = {
  url: rules.nonEmptyString,
  pool,
  schema: rules.nonEmptyString,
  finishedTtlMs: rules.number(0),
  deadTtlMs: rules.number(0),
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
