// Flow control on a real three-node Redis Cluster: unique, concurrency and rate limits are
// off there (their keys are global, and a cluster cannot update keys of several slots in one
// script), so core refuses them and nothing is stored; recurring ticks live in the queue's
// slot and work. Batches are off for the same reason (a batch's record is global). The
// cluster is started here (support/redis-cluster.ts) and thrown away.
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { RedisAdapter } from "@errand/adapter-redis";
import { UnsupportedError } from "@errand/core";

import { batchesSuite } from "./conformance/batches.js";
import { batchesJobsSuite } from "./conformance/batches-jobs.js";
import { capabilitiesSuite } from "./conformance/capabilities.js";
import { flowLimitsSuite } from "./conformance/flow-limits.js";
import { flowRecurringSuite } from "./conformance/flow-recurring.js";
import { flowUniqueSuite } from "./conformance/flow-unique.js";
import { payload, reserve, withFixture, type AdapterWiring } from "./conformance/harness.js";
import { redisPrefix } from "./support/redis.js";
import { startRedisCluster, type RedisClusterNode, type StartedRedisCluster } from "./support/redis-cluster.js";

// As in redis-cluster.redis.test.ts: cases register at load, the cluster starts in beforeAll.
let started: StartedRedisCluster | undefined;
let settleNodes!: { resolve: (nodes: RedisClusterNode[]) => void; reject: (error: Error) => void };
const clusterNodes = new Promise<RedisClusterNode[]>((resolve, reject) => (settleNodes = { resolve, reject }));
clusterNodes.catch(() => undefined);

beforeAll(async () => {
  const cluster = await startRedisCluster();
  if ("error" in cluster) {
    settleNodes.reject(new Error(cluster.error));
    throw new Error(cluster.error);
  }
  started = cluster;
  settleNodes.resolve(cluster.nodes);
}, 30_000);

afterAll(async () => {
  await started?.stop();
});

async function clusterAdapter(prefix = redisPrefix()): Promise<RedisAdapter> {
  return new RedisAdapter({ nodes: await clusterNodes, prefix });
}

const wiring: AdapterWiring = {
  name: "redis-cluster",
  capabilities: RedisAdapter.clusterCapabilities,
  create: () => clusterAdapter(),
  peer: (adapter) => clusterAdapter((adapter as RedisAdapter).keys.prefix),
};

// The refusals (capabilities, batches), the areas that skip themselves, and recurring ticks.
capabilitiesSuite(wiring);
batchesSuite(wiring);
batchesJobsSuite(wiring);
flowUniqueSuite(wiring);
flowLimitsSuite(wiring);
flowRecurringSuite(wiring);

describe("redis cluster: flow control", () => {
  it("an adapter on a cluster reports unique, concurrency and rate limits off, and why", async () => {
    const adapter = await clusterAdapter();
    try {
      expect(adapter.capabilities).toMatchObject({ unique: false, concurrencyLimits: false, rateLimits: false, recurring: true });
      for (const capability of ["unique", "concurrencyLimits", "rateLimits"] as const) {
        expect(adapter.capabilityNotes[capability]).toMatch(/Redis Cluster/);
      }
      expect(RedisAdapter.capabilities).toMatchObject({ unique: true, concurrencyLimits: true, rateLimits: true, recurring: true });
    } finally {
      await adapter.close();
    }
  });

  it("an adapter on a cluster reports batches off, says why, and refuses to open one", async () => {
    const adapter = await clusterAdapter();
    try {
      expect(adapter.capabilities.batches).toBe(false);
      expect(RedisAdapter.capabilities.batches).toBe(true);
      expect(adapter.capabilityNotes.batches).toMatch(/on a Redis Cluster: a batch's record is one key .* several slots in one atomic script/);
      const opening = adapter.openBatches({ batches: [{ id: "b1", callbacks: {}, createdAt: new Date().toISOString() }] });
      await expect(opening).rejects.toBeInstanceOf(UnsupportedError);
      await expect(opening).rejects.toThrow(/openBatches: batches need a standalone Redis/);
    } finally {
      await adapter.close();
    }
  });

  it("core refuses a unique job before anything reaches the cluster", async () => {
    await withFixture(wiring, async (fixture) => {
      const refused = fixture.client.enqueue([payload({ flow: { unique: { key: "k", while: "queued" } } })]);
      await expect(refused).rejects.toBeInstanceOf(UnsupportedError);
      await expect(refused).rejects.toThrow(/does not support unique jobs \(capability unique\): on a Redis Cluster/);
      expect(await reserve(fixture.adapter)).toEqual([]);
    });
  });

  it("recurring ticks of tasks in different queues (slots) are kept apart, and recurringState reads them all", async () => {
    await withFixture(wiring, async (fixture) => {
      const adapter = fixture.adapter as RedisAdapter;
      const at = (queue: string, task: string, tick: string) => payload({ queue, flow: { recurring: { task, tick } } });
      const jobs = [at("q-a", "a", "2030-01-01T00:00:00.000Z"), at("q-b", "b", "2030-01-01T00:00:00.000Z"), at("q-a", "a", "2030-01-01T00:00:00.000Z")];
      const results = await adapter.enqueue({ jobs });
      expect(results.map((r) => r.duplicate === true)).toEqual([false, false, true]);
      expect(await adapter.recurringState({ tasks: ["b", "a"] })).toEqual([
        { task: "b", lastTick: new Date("2030-01-01T00:00:00.000Z"), jobId: jobs[1]!.id },
        { task: "a", lastTick: new Date("2030-01-01T00:00:00.000Z"), jobId: jobs[0]!.id },
      ]);
    });
  });
});
