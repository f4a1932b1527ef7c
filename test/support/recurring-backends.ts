// The backends of the recurring process tests (test/recurring-processes.test.ts,
// test/recurring-sqs-crash.test.ts): each case opens a store of its own (a Redis key prefix,
// a PostgreSQL schema, an SQS queue prefix with a status store of its own) and gets the
// environment of its `errand work` processes (read by test/fixtures/recurring/*.config.mjs)
// and an adapter on that store for the test's reads. Plus what the cases read back: the
// ticks the workers logged as stored, and the runs the job recorded.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { DeleteQueueCommand, ListQueuesCommand } from "@aws-sdk/client-sqs";
import { createAdapter as createPostgres, PostgresStatusStore } from "@errand/adapter-postgres";
import { createAdapter as createRedis, RedisStatusStore } from "@errand/adapter-redis";
import { SqsAdapter } from "@errand/adapter-sqs";
import type { Adapter } from "@errand/core/adapter";

import { dropSchemas, postgresUrl, schemaName } from "./postgres.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./redis.js";
import { sqsEndpoint, sqsPrefix, TEST_SQS_CONFIG, testSqsClient } from "./sqs.js";
import type { WorkerProcess } from "./worker-process.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/recurring/", import.meta.url));

/** The recurring task of the fixture configs. */
export const TASK = "process-tick";

/** One backend of the recurring process tests. */
export interface RecurringBackend {
  /** Name in titles. */
  name: string;
  /** Name in file names. */
  slug: string;
  /** The `errand work` config. */
  config: string;
  /** For SQS: the environment variable the config reads its endpoint from (the crash case points it elsewhere). */
  sqs?: { endpointVar: string };
  /** A store of the case's own: the workers' environment, and an adapter on it for the test's reads. */
  open(): { env: Record<string, string>; adapter: Adapter };
  /** Drops every store opened. */
  cleanup(): Promise<void>;
}

/** Redis, PostgreSQL, and SQS with each shared status store. */
export function recurringBackends(): { redis: RecurringBackend; postgres: RecurringBackend; sqsRedis: RecurringBackend; sqsPostgres: RecurringBackend } {
  const prefixes: string[] = [];
  const schemas: string[] = [];
  const queuePrefixes: string[] = [];
  const redis: RecurringBackend = {
    name: "redis",
    slug: "redis",
    config: join(FIXTURES, "redis.config.mjs"),
    open() {
      const prefix = redisPrefix("errand-recurring");
      prefixes.push(prefix);
      const url = redisUrl();
      return { env: { REDIS_URL_FOR_TEST: url, ERRAND_TEST_PREFIX: prefix }, adapter: createRedis({ url, prefix }, { app: "errand", environment: "test" }) as Adapter };
    },
    cleanup: () => dropPrefixes(redisUrl(), prefixes.splice(0)),
  };
  const postgres: RecurringBackend = {
    name: "postgres",
    slug: "postgres",
    config: join(FIXTURES, "postgres.config.mjs"),
    open() {
      const schema = schemaName("errand_recurring");
      schemas.push(schema);
      const url = postgresUrl();
      return { env: { DATABASE_URL_FOR_TEST: url, ERRAND_TEST_SCHEMA: schema }, adapter: createPostgres({ url, schema }, { app: "errand", environment: "test" }) as Adapter };
    },
    cleanup: () => dropSchemas(postgresUrl(), schemas.splice(0)),
  };
  /** SQS with a status store opened by `store` (its workers' environment and the test's own store). */
  const sqs = (name: string, slug: string, store: () => { env: Record<string, string>; status: RedisStatusStore | PostgresStatusStore }, cleanup: () => Promise<void>): RecurringBackend => ({
    name,
    slug,
    config: join(FIXTURES, "sqs.config.mjs"),
    sqs: { endpointVar: "SQS_ENDPOINT_FOR_TEST" },
    open() {
      const endpoint = sqsEndpoint();
      const queuePrefix = sqsPrefix("errand-recurring");
      queuePrefixes.push(queuePrefix);
      const { env, status } = store();
      return {
        env: { ...env, SQS_ENDPOINT_FOR_TEST: endpoint, ERRAND_TEST_QUEUE_PREFIX: queuePrefix },
        adapter: new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix, status }),
      };
    },
    async cleanup() {
      await Promise.all([dropQueues(queuePrefixes.splice(0)), cleanup()]);
    },
  });
  const sqsRedis = sqs(
    "sqs + redis status store",
    "sqs-redis",
    () => {
      const prefix = redisPrefix("errand-recurring-status");
      prefixes.push(`{${prefix}}`);
      const url = redisUrl();
      return { env: { REDIS_URL_FOR_TEST: url, ERRAND_TEST_STATUS_PREFIX: prefix }, status: new RedisStatusStore({ url, prefix }) };
    },
    () => dropPrefixes(redisUrl(), prefixes.splice(0)),
  );
  const sqsPostgres = sqs(
    "sqs + postgres status store",
    "sqs-postgres",
    () => {
      const schema = schemaName("errand_recurring_status");
      schemas.push(schema);
      const url = postgresUrl();
      return { env: { DATABASE_URL_FOR_TEST: url, ERRAND_TEST_SCHEMA: schema }, status: new PostgresStatusStore({ url, schema }) };
    },
    () => dropSchemas(postgresUrl(), schemas.splice(0)),
  );
  return { redis, postgres, sqsRedis, sqsPostgres };
}

/** Deletes the SQS queues under these prefixes (an SQS_ENDPOINT may be shared, unlike the emulator of one run). */
async function dropQueues(prefixes: readonly string[]): Promise<void> {
  if (prefixes.length === 0) return;
  const sqs = testSqsClient(sqsEndpoint());
  try {
    for (const prefix of prefixes) {
      const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
      await Promise.all(QueueUrls.map((url) => sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined)));
    }
  } finally {
    sqs.destroy();
  }
}

/** The ticks each worker logged as stored: tick ISO → job ids. */
export function storedTicks(workers: readonly WorkerProcess[]): Map<string, string[]> {
  const ticks = new Map<string, string[]>();
  for (const worker of workers) {
    for (const match of worker.stdout.matchAll(/ recurring process-tick: tick (\S+) enqueued as (\S+)\n/g)) {
      ticks.set(match[1]!, [...(ticks.get(match[1]!) ?? []), match[2]!]);
    }
  }
  return ticks;
}

/** The job ids the runs file holds, one per run. */
export const runsIn = (file: string): string[] => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : []);
