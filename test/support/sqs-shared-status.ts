/**
 * The SQS conformance suite with statuses in a store shared by every process
 * (`RedisStatusStore`, `PostgresStatusStore`) instead of this process's memory: what a
 * deployment with separate web and worker processes runs. A shared store's flow control and
 * operator's side give the adapter unique jobs, limits, recurring ticks, listing jobs and the
 * operator's actions. One thin test file per (queue kind, store), so the runs go side by side
 * (each takes ~90 s: SQS delays and visibility timeouts are whole seconds).
 */
import { afterAll } from "vitest";

import type { Adapter, StatusStore } from "@errand/core/adapter";
import { PostgresStatusStore } from "@errand/adapter-postgres";
import { RedisStatusStore } from "@errand/adapter-redis";
import { SqsAdapter } from "@errand/adapter-sqs";

import { runConformance } from "../conformance/index.js";
import { dropSchemas, postgresUrl, schemaName } from "./postgres.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./redis.js";
import { sqsEndpoint, sqsPrefix, TEST_SQS_CONFIG } from "./sqs.js";

/** The shared stores. */
export type SharedStore = "redis" | "postgres";

/** Runs the whole conformance suite on SQS (standard or FIFO queues) with `storeName`'s store. */
export function runSharedStatusConformance(storeName: SharedStore, fifo: boolean): void {
  const endpoint = sqsEndpoint();
  const databaseUrl = postgresUrl();
  const redis = redisUrl();
  const schemas: string[] = [];
  const prefixes: string[] = [];
  afterAll(() => Promise.all([dropSchemas(databaseUrl, schemas), dropPrefixes(redis, prefixes)]));

  /** The store, made fresh (`where` undefined) or as another process's view of an existing one. */
  const store = (where?: string): { store: StatusStore; where: string } => {
    if (storeName === "redis") {
      const prefix = where ?? redisPrefix("errand-status-t");
      if (!where) prefixes.push(prefix);
      return { store: new RedisStatusStore({ url: redis, prefix }), where: prefix };
    }
    const schema = where ?? schemaName("errand_status_t");
    if (!where) schemas.push(schema);
    return { store: new PostgresStatusStore({ url: databaseUrl, schema }), where: schema };
  };

  /** Where each adapter's queues and statuses live, for a second adapter on the same ones. */
  const placed = new WeakMap<Adapter, { queuePrefix: string; where: string }>();

  runConformance({
    name: `sqs${fifo ? " fifo" : ""} + ${storeName} status`,
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
