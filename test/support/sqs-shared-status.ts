/**
 * The SQS conformance suite with statuses in a store shared by every process
 * (`RedisStatusStore`, `PostgresStatusStore`) instead of this process's memory: what a
 * deployment with separate web and worker processes runs. A shared store's flow control and
 * operator's side give the adapter unique jobs, limits, recurring ticks, listing jobs and the
 * operator's actions. One thin test file per (queue kind, store), so the runs go side by side
 * (54–67 s each at load 1–3, 2026-12-04: SQS delays and visibility timeouts are whole seconds).
 */
import { afterAll } from "vitest";

import type { Adapter, StatusStore } from "@errand/core/adapter";
import { PostgresStatusStore } from "@errand/adapter-postgres";
import { RedisStatusStore } from "@errand/adapter-redis";
import { SqsAdapter } from "@errand/adapter-sqs";

import { closeCasesInBackground, casesClosed } from "../conformance/harness.js";
import { runConformance } from "../conformance/index.js";
import { postgresUrl } from "./postgres.js";
import { SchemaPool } from "./postgres-schemas.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./redis.js";
import { sqsEndpoint, sqsPrefix, TEST_SQS_CONFIG } from "./sqs.js";

/** The shared stores. */
export type SharedStore = "redis" | "postgres";

/** Runs the whole conformance suite on SQS (standard or FIFO queues) with `storeName`'s store. */
export function runSharedStatusConformance(storeName: SharedStore, fifo: boolean): void {
  const endpoint = sqsEndpoint();
  const databaseUrl = postgresUrl();
  const redis = redisUrl();
  const schemas = new SchemaPool(databaseUrl, "errand_status_t");
  const prefixes: string[] = [];
  closeCasesInBackground();
  afterAll(async () => {
    await casesClosed();
    await Promise.all([schemas.drop(), dropPrefixes(redis, prefixes)]);
  });

  /** The store, made fresh (`where` undefined) or as another process's view of an existing one. */
  const store = async (where?: string): Promise<{ store: StatusStore; where: string }> => {
    if (storeName === "redis") {
      const prefix = where ?? redisPrefix("errand-status-t");
      if (!where) prefixes.push(prefix);
      return { store: new RedisStatusStore({ url: redis, prefix }), where: prefix };
    }
    // Emptied and reused once every store on it has closed (support/postgres-schemas.ts).
    const schema = where ?? (await schemas.take());
    return { store: schemas.hold(schema, new PostgresStatusStore({ url: databaseUrl, schema })), where: schema };
  };

  /** Where each adapter's queues and statuses live, for a second adapter on the same ones. */
  const placed = new WeakMap<Adapter, { queuePrefix: string; where: string }>();

  runConformance({
    name: `sqs${fifo ? " fifo" : ""} + ${storeName} status`,
    capabilities: { ...(fifo ? SqsAdapter.fifoCapabilities : SqsAdapter.capabilities), ...SqsAdapter.sharedStoreFlow, ...SqsAdapter.sharedStoreControl, ...SqsAdapter.sharedStoreBatches },
    create: async () => {
      const queuePrefix = sqsPrefix();
      const { store: status, where } = await store();
      const adapter = new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix, status, fifo });
      placed.set(adapter, { queuePrefix, where });
      return adapter;
    },
    peer: async (adapter) => {
      const { queuePrefix, where } = placed.get(adapter)!;
      return new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix, status: (await store(where)).store, fifo });
    },
  });
}
