// Status feeds survive a dropped connection: the server cuts the feed's connection (Redis:
// CLIENT KILL of the subscriber; PostgreSQL: pg_terminate_backend of the listener), the feed
// reconnects by itself, calls onReconnect — once, and never for its first connection — and
// reports changes again. On the Redis and PostgreSQL adapters, and on SQS through the Redis
// and PostgreSQL status stores.
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";

import { PostgresAdapter, PostgresStatusStore } from "@errand/adapter-postgres";
import { RedisAdapter, RedisStatusStore } from "@errand/adapter-redis";
import { SqsAdapter } from "@errand/adapter-sqs";
import type { Adapter, StatusFeed } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { payload } from "./conformance/harness.js";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { sqsEndpoint, sqsPrefix, TEST_SQS_CONFIG } from "./support/sqs.js";

const redis = redisUrl();
const database = postgresUrl();
const endpoint = sqsEndpoint();
const prefixes: string[] = [];
const schemas: string[] = [];
afterAll(() => Promise.all([dropPrefixes(redis, prefixes), dropSchemas(database, schemas)]));

/** A feed that records reported ids and counts reconnections. */
async function record(adapter: Adapter) {
  const seen = new Set<string>();
  const state = { reconnects: 0, feed: undefined as StatusFeed | undefined };
  state.feed = await adapter.openStatusFeed!({ onChange: (ids) => ids.forEach((id) => seen.add(id)), onReconnect: () => state.reconnects++ });
  return {
    state,
    /** Enqueues a job and waits until the feed reports it. */
    async reportsAnEnqueue(what: string): Promise<void> {
      const job = payload({ queue: "reconnect" });
      await adapter.enqueue({ jobs: [job] });
      await waitFor(() => seen.has(job.id), { timeoutMs: 10_000, message: `the feed to report an enqueue ${what}` });
    },
  };
}

/**
 * The case every backend runs: a change is reported, the cut is followed by exactly one
 * onReconnect, and changes are reported again.
 */
async function cutAndResume(adapter: Adapter, cut: () => Promise<number>): Promise<void> {
  const feed = await record(adapter);
  try {
    await feed.reportsAnEnqueue("before the cut");
    expect(feed.state.reconnects).toBe(0);
    expect(await cut()).toBeGreaterThan(0);
    await waitFor(() => feed.state.reconnects > 0, { timeoutMs: 15_000, message: "onReconnect after the cut" });
    await feed.reportsAnEnqueue("after the reconnection");
    expect(feed.state.reconnects).toBe(1);
  } finally {
    await feed.state.feed?.close();
    await adapter.close();
  }
}

/** Kills the Redis pub/sub connections named `name`; answers how many. */
async function killRedisSubscribers(name: string): Promise<number> {
  const admin = new Redis(redis);
  try {
    const list = (await admin.call("CLIENT", "LIST", "TYPE", "pubsub")) as string;
    const ids = list
      .split("\n")
      .filter((line) => line.includes(` name=${name} `))
      .map((line) => /\bid=(\d+)/.exec(line)![1]!);
    for (const id of ids) await admin.call("CLIENT", "KILL", "ID", id);
    return ids.length;
  } finally {
    admin.disconnect();
  }
}

/** Terminates the PostgreSQL backends whose last statement LISTENed on a channel naming `schema`; answers how many. */
async function terminateListeners(schema: string): Promise<number> {
  const admin = new pg.Client({ connectionString: database });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND position($1 in query) > 0 AND pid <> pg_backend_pid()",
      [`:${schema}:`],
    );
    for (const { pid } of rows) await admin.query("SELECT pg_terminate_backend($1)", [pid]);
    return rows.length;
  } finally {
    await admin.end();
  }
}

describe("status feed: reconnecting after the server cuts its connection", () => {
  it("redis adapter: CLIENT KILL of the subscriber → onReconnect once, then changes are reported again", async () => {
    const prefix = redisPrefix();
    prefixes.push(prefix);
    const name = `${prefix}-feed`;
    const adapter = new RedisAdapter({ url: redis, prefix, clientOptions: { connectionName: name } });
    await cutAndResume(adapter, () => killRedisSubscribers(name));
  });

  it("postgres adapter: pg_terminate_backend of the listener → onReconnect once, then changes are reported again", async () => {
    const schema = schemaName();
    schemas.push(schema);
    const adapter = new PostgresAdapter({ url: database, schema, poolSize: 2 });
    await cutAndResume(adapter, () => terminateListeners(schema));
  });

  it("sqs + redis status store: CLIENT KILL of the store's subscriber → onReconnect once, then changes are reported again", async () => {
    const prefix = redisPrefix("errand-status-t");
    prefixes.push(prefix);
    const name = `${prefix}-feed`;
    const client = new Redis(redis, { connectionName: name });
    const status = new RedisStatusStore({ client, prefix });
    const adapter = new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix: sqsPrefix(), status });
    try {
      await cutAndResume(adapter, () => killRedisSubscribers(name));
    } finally {
      client.disconnect();
    }
  });

  it("sqs + postgres status store: pg_terminate_backend of the store's listener → onReconnect once, then changes are reported again", async () => {
    const schema = schemaName("errand_status_t");
    schemas.push(schema);
    const status = new PostgresStatusStore({ url: database, schema });
    const adapter = new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix: sqsPrefix(), status });
    await cutAndResume(adapter, () => terminateListeners(schema));
  });
});
