/**
 * The worker's options and how each is resolved: the option given, else the config's
 * `worker` settings, else Errand's default. Bad values are `ConfigError`s naming the option.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";

import type { AdapterClient } from "../backends/client.js";
import type { WorkerSettings } from "../config/define.js";
import { toMs, type Duration } from "../duration.js";
import { WORKER_SCHEMA } from "../config/schema.js";
import { rules, validateOptions, type OptionSchema } from "../config/validate.js";
import { ConfigError } from "../errors.js";
import type { Runtime } from "../runtime.js";

/** Options of `Worker`; each defaults to the config's `worker` settings, then to the value given. */
export interface WorkerOptions {
  /** Runtime to use. Default: the configured one. */
  runtime?: Runtime;
  /** Named adapter to work (`adapters.<name>` in config). Default: the default adapter. */
  adapter?: string;
  /** Weighted queues: `"critical,2 default,1"`, `["critical,2", "default"]`, or `"*"`. Default `"*"` (or `"default"` when the backend cannot list queues). */
  queues?: string | readonly string[];
  /** Jobs run at once. Default 10. */
  concurrency?: number;
  /** Jobs reserved ahead of free slots, refilled when half gone. Default: `concurrency`, at least 10. */
  prefetch?: number;
  /** Lease length. Default `"5m"`. */
  lease?: Duration;
  /** Idle wait per reserve (blocking backends) or between polls. Default `"1s"`. */
  pollInterval?: Duration;
  /** Time running jobs get to finish at shutdown. Default `"25s"`. */
  shutdownGrace?: Duration;
  /**
   * Run the recurring scheduler: enqueue the ticks of the config's recurring tasks whose
   * jobs live on this worker's adapter. Default: config `worker.recurring`, else true.
   */
  recurring?: boolean;
  /** Identifies this worker in events and backends. Default `host:pid:random`. */
  workerId?: string;
  /**
   * Keep the process alive while the worker runs. Default true (a worker process should
   * not exit when its queues are empty); the async adapter's in-app pool passes false so a
   * script exits when its own work is done.
   */
  keepAlive?: boolean;
  /** @internal an adapter client to work directly (the embedded pool). */
  client?: AdapterClient;
}

/** @internal The settings a worker runs with, every default applied. */
export interface ResolvedWorkerOptions {
  id: string;
  concurrency: number;
  prefetch: number;
  /** The app set `prefetch`: the worker keeps it instead of adapting it. */
  prefetchFixed: boolean;
  leaseMs: number;
  pollIntervalMs: number;
  shutdownGraceMs: number;
  recurring: boolean;
}

/** Smallest default prefetch: a reserve is a round trip on networked backends, so fetch several jobs at once. */
const DEFAULT_MIN_PREFETCH = 10;

const { embedded: _embedded, ...WORKER_SETTINGS } = WORKER_SCHEMA;

/** What `new Worker(options)` accepts (the config's worker settings but `embedded`, and its own): an unknown key or a value of the wrong kind is a `ConfigError`. */
const WORKER_OPTIONS_SCHEMA: OptionSchema<WorkerOptions> = {
  ...WORKER_SETTINGS,
  runtime: rules.withMethods("a Runtime", "adapterFor", "trackWorker"),
  adapter: rules.nonEmptyString,
  workerId: rules.nonEmptyString,
  keepAlive: rules.boolean,
  client: rules.withMethods("an AdapterClient", "reserve", "settle"),
};

/** @internal Applies the config's worker settings and the defaults to `options`; throws `ConfigError` on a bad value. */
export function resolveWorkerOptions(options: WorkerOptions, settings: WorkerSettings): ResolvedWorkerOptions {
  validateOptions(options, WORKER_OPTIONS_SCHEMA, "the worker options");
  // Both sources are validated: the options just above, the settings with the runtime's config.
  const concurrency = options.concurrency ?? settings.concurrency ?? 10;
  const fixedPrefetch = options.prefetch ?? settings.prefetch;
  const leaseMs = toMs(options.lease ?? settings.lease ?? "5m", "worker lease");
  if (leaseMs < 1000) throw new ConfigError(`worker lease must be at least 1s, got ${leaseMs} ms`);
  return {
    id: options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    concurrency,
    prefetch: Math.max(0, fixedPrefetch ?? Math.max(concurrency, DEFAULT_MIN_PREFETCH)),
    prefetchFixed: fixedPrefetch !== undefined,
    leaseMs,
    pollIntervalMs: toMs(options.pollInterval ?? settings.pollInterval ?? "1s", "worker pollInterval"),
    shutdownGraceMs: toMs(options.shutdownGrace ?? settings.shutdownGrace ?? "25s", "worker shutdownGrace"),
    recurring: options.recurring ?? settings.recurring ?? true,
  };
}
