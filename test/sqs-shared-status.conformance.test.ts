// The SQS conformance suite again, with statuses in the stores shared by every process
// (`RedisStatusStore`, `PostgresStatusStore`) instead of this process's memory: what a
// deployment with separate web and worker processes runs. Standard queues, then FIFO queues.
// A shared store's flow control and operator's side give the adapter unique jobs, limits,
// recurring ticks, listing jobs and the operator's actions.
import { afterAll } from "vitest";

import type { Adapter, StatusStore } from "@errand/core/adapter";
import { PostgresStatusStore } from "@errand/adapter-postgres";
import { RedisStatusStore } from "@errand/adapter-redis";
import { SqsAdapter } from "@errand/adapter-sqs";

import { runConformance } from "./conformance/index.js";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { sqsEndpoint, sqsPrefix, TEST_SQS_CONFIG } from "./support/sqs.js";

const endpoint = sqsEndpoint();
const databaseUrl = postgresUrl();
const redis = redisUrl();
const schemas: string[] = [];
const prefixes: string[] = [];
afterAll(() => Promise.all([dropSchemas(databaseUrl, schemas), dropPrefixes(redis, prefixes)]));

/** Each store, made fresh (`where` undefined) or as another process's view of an existing one. */
const stores: Record<string, (where?: string) => { store: StatusStore; where: string }> = {
  "redis status": (where) => {
    const prefix = where ?? redisPrefix("errand-status-t");
    if (!where) prefixes.push(prefix);
    return { store: new RedisStatusStore({ url: redis, prefix }), where: prefix };
  },
  "postgres status": (where) => {
    const schema = where ?? schemaName("errand_status_t");
    if (!where) schemas.push(schema);
    return { store: new PostgresStatusStore({ url: databaseUrl, schema }), where: schema };
  },
};

/** Where each adapter's queues and statuses live, for a second adapter on the same ones. */
const placed = new WeakMap<Adapter, { queuePrefix: string; where: string }>();

for (const fifo of [false, true]) {
  for (const [name, store] of Object.entries(stores)) {
    runConformance({
      name: `sqs${fifo ? " fifo" : ""} + ${name}`,
      capabilities: { ...(fifo ? SqsAdapter.fifoCapabilities : SqsAdapter.capabilities), ...SqsAdapter.sharedStoreFlow, ...SqsAdapter.sharedStoreControl },
      create: async () => {
        const queuePrefix = sqsPrefix();
        const { store: status, where } = store();
        const adapter = new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix, status, fifo });
        placed.set(adapter, { queuePrefix, where });
        return adapter;
      },
      peer: async (adapter) => {
        const { queuePrefix, where } = placed.get(adapter)!;
        return new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix, status: store(where).store, fifo });
      },
    });
  }
}
