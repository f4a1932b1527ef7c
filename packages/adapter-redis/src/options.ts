/**
 * The adapter's options (`RedisAdapterOptions`) and the schemas of the adapter's and the
 * status store's options, checked when either is built: an unknown option or a value of the
 * wrong kind is a `ConfigError` naming it.
 *
 * @module
 */
import { rules, validateOptions, type OptionSchema } from "@errand/core/adapter";
import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from "ioredis";

import type { RedisStatusStoreOptions } from "./status-store.js";

/** Options of the Redis adapter (`adapter: { use: "redis", ... }`). */
export interface RedisAdapterOptions {
  /** Connection URL (`redis://user:pass@host:6379/0`, `rediss://` for TLS). Give this, `nodes` or `client`. */
  url?: string;
  /** Startup nodes of a Redis Cluster (`[{ host, port }]` or `"host:port"` strings); Errand makes the `Cluster`. */
  nodes?: ClusterNode[];
  /** Options for the client Errand makes from `url` (ioredis `RedisOptions`) or `nodes` (`ClusterOptions`). */
  clientOptions?: RedisOptions | ClusterOptions;
  /** The app's own ioredis `Redis` or `Cluster`; Errand uses it (and a duplicate for pub/sub) and does not quit it. */
  client?: Redis | Cluster;
  /** Prefix of every key and channel. Default `"errand"`. One prefix per app (or per test file). */
  prefix?: string;
  /** Keep finished (succeeded, discarded) jobs this long, in ms. Default 24 h. Dead jobs stay until purged. */
  retentionMs?: number;
  /** Keep at most this many finished jobs per queue. Default 100,000. */
  maxFinished?: number;
  /**
   * Publish state changes on `<prefix>:status` (JSON `{ queue, state, ids }` per batch), which
   * status feeds (`openStatusFeed`, live status pages) listen to. Default true; false also
   * turns off `capabilities.statusFeed`.
   */
  publishStatus?: boolean;
  /** Longest a waiting reserve sleeps before looking again when no wake-up comes, in ms. Default 1,000. */
  pollMs?: number;
  /**
   * Upgrade the prefix's keys to this version's layout on first use (`migrate.ts`). Default
   * true; set false to run `errand migrate` yourself.
   */
  migrate?: boolean;
}

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
  deadTtlMs: rules.number(0),
};

/** Checks `new RedisAdapter(options)` / `{ use: "redis", ...options }`. */
export function checkAdapterOptions(options: unknown): void {
  validateOptions(options, ADAPTER_OPTIONS, "the redis adapter options");
}

/** Checks `new RedisStatusStore(options)`. */
export function checkStatusStoreOptions(options: unknown): void {
  validateOptions(options, STATUS_STORE_OPTIONS, "the redis status store options");
}
