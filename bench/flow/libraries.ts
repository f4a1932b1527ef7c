/**
 * What the flow bench runs: Errand on each backend with one no-op job class in four
 * variants (plain, unique, concurrency-limited, rate-limited — none binding), and, on Redis,
 * BullMQ plain, with deduplication and with its queue rate limiter. Each opened library knows
 * how to tell that every job finished in its store and how to delete what it wrote.
 *
 * Jobs carry one number `n`; the keys are functions of it, so the variants differ by the
 * job class's static settings only (the static twins of `@unique`, `@limitConcurrency`,
 * `@rateLimit`).
 */
import type { AdapterOptionsSetting } from "@errand/core";
import pg from "pg";

import type { Tuning } from "../lib/compare.js";
import { openErrand, type ErrandLibrary } from "../lib/errand.js";
import { sleep, type BenchLibrary } from "../lib/scenarios.js";
import { openLibrary as openRedisLibrary } from "../redis/libraries.js";
import { connect, deleteKeys } from "../redis/store.js";
import { CLIENT_CONFIG, deleteQueues, messagesLeft, queueUrl, sqsClient } from "../sqs/store.js";

export type Backend = "async" | "redis" | "postgres" | "sqs";
export const BACKENDS: readonly Backend[] = ["async", "redis", "postgres", "sqs"];

export type ErrandVariant = "plain" | "unique" | "concurrency" | "rate";
export type BullVariant = "bullmq" | "bullmq-dedup" | "bullmq-limiter";
export type Variant = ErrandVariant | BullVariant;
export const ERRAND_VARIANTS: readonly ErrandVariant[] = ["plain", "unique", "concurrency", "rate"];
export const BULL_VARIANTS: readonly BullVariant[] = ["bullmq", "bullmq-dedup", "bullmq-limiter"];
export const BULLMQ_VERSION = "6.7.0";

/**
 * Keys the limits are spread over, and the limits: 1,000 concurrency keys of limit 1,000
 * and 1,000 rate keys of 1,000 starts per second. A drain at 40k jobs/s starts ~40 jobs per
 * key per second and holds at most the prefetch (≤ 1,000 jobs) leased: no limit binds, so
 * what the variant costs is deciding, not waiting. `ERRAND_BENCH_FLOW_KEYS` (profile.js
 * `--keys`) spreads them over fewer keys: each rate key then allows 1,000,000 ÷ keys starts
 * per second, so the limits still do not bind.
 */
export const FLOW_KEYS = flowKeys(process.env.ERRAND_BENCH_FLOW_KEYS);
export const CONCURRENCY_LIMIT = 1_000;
export const RATE_LIMIT = { limit: Math.floor(1_000_000 / FLOW_KEYS), per: "1s" } as const;

/** The number of flow keys: 1,000, or the positive integer `text` (at most 1,000,000). */
function flowKeys(text: string | undefined): number {
  if (text === undefined) return 1_000;
  const keys = Number(text);
  if (!Number.isInteger(keys) || keys < 1 || keys > 1_000_000) throw new Error(`ERRAND_BENCH_FLOW_KEYS must be an integer from 1 to 1,000,000, got ${JSON.stringify(text)}`);
  return keys;
}
/** BullMQ's limiter is one per queue: 1,000,000 jobs per second does not bind either. */
const BULL_LIMITER = { limiterMax: 1_000_000, limiterDurationMs: 1_000 };

/** The job class's static settings per variant (what `@unique` etc. would set). */
export const STATICS: Record<ErrandVariant, Record<string, unknown>> = {
  plain: {},
  // No key: the key is a digest of the arguments, distinct for every n (none is a duplicate).
  unique: { unique: { while: "active" } },
  concurrency: { concurrencyLimit: { key: (n: number) => `c${n % FLOW_KEYS}`, limit: CONCURRENCY_LIMIT } },
  rate: { rateLimit: { key: (n: number) => `r${n % FLOW_KEYS}`, ...RATE_LIMIT } },
};

/** Where each backend is, as the parent passes it to the child. */
export interface Endpoints {
  redisUrl: string;
  databaseUrl: string;
  /** The SQS endpoint (the parent's fauxqs), when the SQS backend runs. */
  sqsEndpoint?: string;
}

/** A library of this bench: the shared interface, plus "finished?" and clean-up. */
export interface FlowLibrary extends BenchLibrary {
  /** True while some job is not yet recorded as finished in the store. */
  unfinished(): Promise<boolean>;
  /** Deletes what the library wrote (keys, queues, schema); after `close`. */
  cleanup(): Promise<void>;
}

/** What the JSON shows of an adapter setting (no URL, no client objects). */
const shown = (adapter: AdapterOptionsSetting, hidden: string[]) =>
  Object.fromEntries(Object.entries(adapter).filter(([key]) => !hidden.includes(key)).map(([key, value]) => [key, typeof value === "object" ? "…" : value]));

/** Redis keys under `prefix:`, and under `{prefix}:` (a status store's hash-tagged keys). */
export async function deleteRedisKeys(url: string, prefix: string, storePrefix?: string): Promise<void> {
  const client = connect(url);
  try {
    await deleteKeys(client, prefix);
    if (storePrefix) {
      let cursor = "0";
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", `{${storePrefix}}:*`, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await client.unlink(...keys);
      } while (cursor !== "0");
    }
  } finally {
    client.disconnect();
  }
}

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

const PG_SCHEMA = "bench_flow";

/** The SQS backend's status-store prefix for queue prefix `prefix`: letters, digits and dashes (no braces); its keys are `{<it>}:…`. */
export const statusStorePrefix = (prefix: string) => `${prefix.replace(/-$/, "")}-status`;

/** Errand on `backend` with the `variant`'s job class; `prefix` names its keys or queues. */
async function errand(backend: Backend, variant: ErrandVariant, endpoints: Endpoints, prefix: string): Promise<FlowLibrary> {
  const statics = STATICS[variant];
  const settings = (library: ErrandLibrary, adapter: Record<string, unknown>) => ({ ...library.settings, adapter, variant, flow: describeStatics(variant) });
  switch (backend) {
    case "async": {
      const library = await openErrand({ use: "async" }, { use: "async" }, {}, statics);
      return {
        ...library,
        settings: settings(library, { use: "async" }),
        // The in-process store: nothing queued, scheduled or running is left once every settle landed.
        unfinished: async () => (await library.listQueues()).some((q) => q.queued + q.running + q.scheduled + q.retrying > 0),
        cleanup: async () => {},
      };
    }
    case "redis": {
      const { KeyLayout } = await import("@errand/adapter-redis");
      const adapter: AdapterOptionsSetting = { use: "redis", url: endpoints.redisUrl, prefix };
      const library = await openErrand(adapter, shown(adapter, ["url"]), {}, statics);
      const keys = new KeyLayout(prefix).queue("default");
      const observer = connect(endpoints.redisUrl);
      return {
        ...library,
        settings: settings(library, { ...shown(adapter, ["url"]), prefix: "fresh per run" }),
        unfinished: async () => {
          const counts = await Promise.all([keys.prios, keys.active, keys.parked, keys.deferred].map((key) => observer.zcard(key)));
          return counts.some((count) => count > 0);
        },
        close: async () => {
          await library.close();
          observer.disconnect();
        },
        cleanup: () => deleteRedisKeys(endpoints.redisUrl, prefix),
      };
    }
    case "postgres": {
      await withClient(endpoints.databaseUrl, async (client) => {
        await client.query("SET client_min_messages = warning");
        await client.query(`DROP SCHEMA IF EXISTS "${PG_SCHEMA}" CASCADE`);
      });
      const adapter: AdapterOptionsSetting = { use: "postgres", url: endpoints.databaseUrl, schema: PG_SCHEMA, poolSize: 10 };
      const library = await openErrand(adapter, shown(adapter, ["url"]), {}, statics);
      const observer = new pg.Client({ connectionString: endpoints.databaseUrl });
      await observer.connect();
      return {
        ...library,
        settings: settings(library, shown(adapter, ["url"])),
        unfinished: async () => Boolean((await observer.query(`SELECT 1 FROM "${PG_SCHEMA}".jobs WHERE state IN ('available', 'parked', 'running') LIMIT 1`)).rowCount),
        close: async () => {
          await library.close();
          await observer.end();
        },
        cleanup: async () => {},
      };
    }
    case "sqs": {
      const endpoint = endpoints.sqsEndpoint;
      if (!endpoint) throw new Error("the sqs backend needs an SQS endpoint");
      const { RedisStatusStore } = await import("@errand/adapter-redis");
      const storePrefix = statusStorePrefix(prefix);
      const status = new RedisStatusStore({ url: endpoints.redisUrl, prefix: storePrefix });
      const adapter: AdapterOptionsSetting = { use: "sqs", endpoint, clientConfig: CLIENT_CONFIG, queuePrefix: prefix, status };
      const library = await openErrand(adapter, shown(adapter, ["endpoint", "clientConfig"]), {}, statics);
      const sqs = sqsClient(endpoint);
      let url: string | undefined;
      return {
        ...library,
        settings: settings(library, { use: "sqs", queuePrefix: "fresh per run", status: "RedisStatusStore (same Redis)" }),
        // A job is finished once its message is deleted: nothing ready, in flight or delayed is left.
        unfinished: async () => (await messagesLeft(sqs, (url ??= await queueUrl(sqs, `${prefix}default`)))) > 0,
        // As in the SQS bench: the idle 1 s long poll left running at stop hands its messages back after it ends.
        stopWorkers: async () => {
          await library.stopWorkers();
          await sleep(1_500);
        },
        close: async () => {
          await library.close();
          sqs.destroy();
        },
        cleanup: async () => {
          const client = sqsClient(endpoint);
          try {
            await deleteQueues(client, prefix);
          } finally {
            client.destroy();
          }
          await deleteRedisKeys(endpoints.redisUrl, storePrefix, storePrefix);
        },
      };
    }
  }
}

/** BullMQ plain, with deduplication, or with its limiter, on Redis under `prefix` (see ../redis/libraries.ts). */
async function bullmq(variant: BullVariant, endpoints: Endpoints, prefix: string): Promise<FlowLibrary> {
  const tuning: Tuning = variant === "bullmq-dedup" ? { deduplication: true } : variant === "bullmq-limiter" ? BULL_LIMITER : {};
  const library = await openRedisLibrary("bullmq", endpoints.redisUrl, prefix, tuning);
  const observer = connect(endpoints.redisUrl);
  return {
    ...library,
    settings: { ...library.settings, variant },
    unfinished: () => library.unfinished(observer),
    close: async () => {
      await library.close();
      observer.disconnect();
    },
    cleanup: () => deleteRedisKeys(endpoints.redisUrl, prefix),
  };
}

/** The variant's settings as the JSON shows them (key functions by their text). */
export function describeStatics(variant: ErrandVariant): Record<string, unknown> {
  return JSON.parse(JSON.stringify(STATICS[variant], (_key, value: unknown) => (typeof value === "function" ? String(value) : value))) as Record<string, unknown>;
}

/** Opens `variant` on `backend` (BullMQ variants on Redis only). */
export function openFlowLibrary(backend: Backend, variant: Variant, endpoints: Endpoints, prefix: string): Promise<FlowLibrary> {
  if ((BULL_VARIANTS as readonly string[]).includes(variant)) {
    if (backend !== "redis") throw new Error(`${variant} runs on redis only`);
    return bullmq(variant as BullVariant, endpoints, prefix);
  }
  return errand(backend, variant as ErrandVariant, endpoints, prefix);
}
