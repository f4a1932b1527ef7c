// The Redis adapter on a real three-node Redis Cluster: the portable conformance areas run
// against it, then the facts that make the key layout work there are read from the servers.
//
// This is a *.redis.test.ts because it reads raw cluster facts: which node holds which keys
// (SCAN on each master), the slot the server computes for each key (CLUSTER KEYSLOT), and
// who is subscribed where (PUBSUB NUMSUB) — what no portable API can vouch for. The cluster
// is started here, from the local redis-server and redis-cli (support/redis-cluster.ts), and
// thrown away with every key in it, so no prefix is dropped at the end.
import { Cluster, type Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { RedisAdapter } from "@errand/adapter-redis";
import { configure, Job, performAllLater, Worker } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { controlSuite } from "./conformance/control.js";
import { controlWorkersSuite } from "./conformance/control-workers.js";
import { enqueueSuite } from "./conformance/enqueue.js";
import { payload, type AdapterWiring } from "./conformance/harness.js";
import { leaseSuite } from "./conformance/lease.js";
import { listJobsSuite } from "./conformance/list-jobs.js";
import { reserveSuite } from "./conformance/reserve.js";
import { retrySuite } from "./conformance/retry.js";
import { statusSuite } from "./conformance/status.js";
import { statusFeedSuite } from "./conformance/status-feed.js";
import { workerControlSuite } from "./conformance/worker-control.js";
import { workerInterruptSuite } from "./conformance/worker-interrupt.js";
import { redisPrefix } from "./support/redis.js";
import { startRedisCluster, type RedisClusterNode, type StartedRedisCluster } from "./support/redis-cluster.js";

// The cases are registered at module load, the cluster starts in beforeAll: `create` awaits
// the startup nodes, which beforeAll settles (with the reason, when the cluster cannot start).
let started: StartedRedisCluster | undefined;
let settleNodes!: { resolve: (nodes: RedisClusterNode[]) => void; reject: (error: Error) => void };
const clusterNodes = new Promise<RedisClusterNode[]>((resolve, reject) => (settleNodes = { resolve, reject }));
clusterNodes.catch(() => undefined); // beforeAll reports the failure; no unhandled rejection besides

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

/** A Cluster client of the adapter, on a fresh prefix of its own. */
async function clusterAdapter(options: { prefix?: string; pollMs?: number } = {}): Promise<RedisAdapter> {
  return new RedisAdapter({ nodes: await clusterNodes, prefix: options.prefix ?? redisPrefix(), ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }) });
}

// Default options (pollMs 1 s), unlike the single-node wiring's 50 ms: idle reserves must be
// woken over the cluster's pub/sub, or the waiting cases slow down past their deadlines.
const wiring: AdapterWiring = {
  name: "redis-cluster",
  capabilities: RedisAdapter.clusterCapabilities,
  create: () => clusterAdapter(),
  peer: (adapter) => clusterAdapter({ prefix: (adapter as RedisAdapter).keys.prefix }),
};

enqueueSuite(wiring);
reserveSuite(wiring);
statusSuite(wiring);
leaseSuite(wiring);
retrySuite(wiring);
statusFeedSuite(wiring);
listJobsSuite(wiring);
controlSuite(wiring);
controlWorkersSuite(wiring);
workerControlSuite(wiring);
workerInterruptSuite(wiring);

/** A raw client of the cluster and one client per master, for facts about single nodes. */
async function rawCluster(): Promise<{ cluster: Cluster; masters: Redis[]; close: () => Promise<void> }> {
  const cluster = new Cluster(await clusterNodes);
  cluster.on("error", () => undefined);
  await waitFor(() => cluster.status === "ready", { message: "the raw cluster client to be ready" });
  const masters = cluster.nodes("master");
  return { cluster, masters, close: () => cluster.quit().then(() => undefined) };
}

/** Every key under `prefix` on one node (SCAN only walks the node it is sent to). */
async function keysOn(node: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await node.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys;
}

/** Successful script runs (EVAL and EVALSHA) on the cluster so far, summed over the masters. */
async function scriptCalls(masters: readonly Redis[]): Promise<number> {
  let calls = 0;
  for (const node of masters) {
    const stats = await node.info("commandstats");
    for (const match of stats.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)) calls += Number(match[1]);
  }
  return calls;
}

const performed = new Map<string, number>();

/** Counts its runs per job id, so a job run twice (or never) shows. */
class TallyJob extends Job<[n: number]> {
  static override jobName = "ClusterTallyJob";
  perform(n: number) {
    performed.set(this.jobId, (performed.get(this.jobId) ?? 0) + 1);
    return n;
  }
}

describe("redis cluster: why the key layout works", () => {
  it("keeps every key of a queue in one slot, spreads queues over nodes, and a worker drains 2,000 jobs across them", async () => {
    const raw = await rawCluster();
    const prefix = redisPrefix("errand-cluster");
    const adapter = await clusterAdapter({ prefix });
    const runtime = configure({ adapter, jobs: [TallyJob], worker: { embedded: false } });
    let worker: Worker | undefined;
    try {
      expect(raw.masters).toHaveLength(3);
      const queues = Array.from({ length: 8 }, (_, index) => `q${index}`);
      // q0 gets 1,200 jobs: past the 1,000 of one enqueue script, so the adapter pipelines two
      // scripts, which a Cluster client accepts only when they share a slot. The other 800
      // are spread over q1..q7.
      const queueOf = (n: number) => (n < 1200 ? queues[0]! : queues[1 + (n % 7)]!);
      const enqueued = await performAllLater(Array.from({ length: 2000 }, (_, n) => new TallyJob(n).set({ queue: queueOf(n) })));
      const ids = enqueued.map((job) => job.jobId);

      // Where the keys really are: walk each master and ask the server each key's slot.
      const nodeOfQueue = new Map<string, Set<number>>();
      const slotsOfQueue = new Map<string, Set<number>>();
      const jobHashes: Promise<number>[] = [];
      const controlTag = `${prefix}:{${prefix}:control}:`;
      for (const [index, node] of raw.masters.entries()) {
        const keys = await keysOn(node, prefix);
        const pipeline = node.pipeline();
        for (const key of keys) pipeline.call("CLUSTER", "KEYSLOT", key);
        const slots = ((await pipeline.exec()) ?? []).map(([error, slot]) => {
          if (error) throw error;
          return Number(slot);
        });
        keys.forEach((key, k) => {
          if (key === adapter.keys.queues || key === adapter.keys.layout) return; // global: plain keys, any slot
          if (key.startsWith(controlTag)) return; // the operator's keys: below
          const queue = /^[^{]*\{([^}]*)\}/.exec(key)?.[1];
          expect(queue, `key ${key} carries a queue hash tag`).toBeDefined();
          if (key === adapter.keys.queue(queue!).jobs) jobHashes.push(node.hlen(key));
          (nodeOfQueue.get(queue!) ?? nodeOfQueue.set(queue!, new Set()).get(queue!)!).add(index);
          (slotsOfQueue.get(queue!) ?? slotsOfQueue.set(queue!, new Set()).get(queue!)!).add(slots[k]!);
        });
      }
      // Every job's record exists once, somewhere: nothing was lost to a wrong node or slot.
      expect((await Promise.all(jobHashes)).reduce((a, b) => a + b, 0)).toBe(2000);
      expect([...slotsOfQueue.keys()].sort()).toEqual(queues);
      for (const queue of queues) {
        // One slot per queue is what lets one Lua script touch all of the queue's keys...
        expect([...slotsOfQueue.get(queue)!], `slots of queue ${queue}`).toHaveLength(1);
        expect(nodeOfQueue.get(queue)!.size, `nodes holding queue ${queue}`).toBe(1);
      }
      // ...and different queues landing on different nodes is what spreads the load.
      const nodesUsed = new Set([...nodeOfQueue.values()].flatMap((nodes) => [...nodes]));
      expect(nodesUsed.size).toBeGreaterThan(1);

      worker = new Worker({ runtime, concurrency: 20, queues: "*", pollInterval: "200ms" });
      await worker.start();
      await waitFor(() => performed.size === 2000, { timeoutMs: 20_000, intervalMs: 50, message: "2,000 jobs to run" });
      // The worker's beats wrote the operator's keys (its record, finished counts), under a hash
      // tag of their own (keys.ts): all on one node, in one slot, so a beat is one script.
      await waitFor(async () => (await Promise.all(raw.masters.map((node) => keysOn(node, controlTag.slice(0, -1))))).flat().length >= 2, { message: "the worker's beats" });
      const controlKeys = await Promise.all(raw.masters.map((node) => keysOn(node, controlTag.slice(0, -1))));
      expect(controlKeys.filter((keys) => keys.length > 0)).toHaveLength(1);
      const controlSlots = await Promise.all(controlKeys.flat().map((key) => raw.cluster.call("CLUSTER", "KEYSLOT", key)));
      expect(new Set(controlSlots).size).toBe(1);
      await worker.stop({ graceMs: 5000 });
      worker = undefined;

      // Each ran exactly once (the leases are far from expiring), and each reads succeeded.
      expect([...performed.values()].every((runs) => runs === 1)).toBe(true);
      const client = await runtime.adapterFor();
      const statuses = await client.getStatus(ids);
      const states = new Map<string, number>();
      for (const status of statuses) states.set(status?.state ?? "missing", (states.get(status?.state ?? "missing") ?? 0) + 1);
      expect(Object.fromEntries(states)).toEqual({ succeeded: 2000 });
      const left = await adapter.listQueues();
      expect(left.filter((queue) => queue.queued + queue.running + queue.scheduled + queue.retrying > 0)).toEqual([]);
    } finally {
      await worker?.stop({ graceMs: 1000 });
      await runtime.close();
      await raw.close();
    }
  });

  it("a status feed reconnects after the server kills its subscriber: onReconnect once, then changes are reported again", async () => {
    const raw = await rawCluster();
    const prefix = redisPrefix("errand-cluster");
    const name = `${prefix}-feed`;
    const adapter = new RedisAdapter({ nodes: await clusterNodes, prefix, clientOptions: { redisOptions: { connectionName: name } } });
    const seen = new Set<string>();
    let reconnects = 0;
    const feed = await adapter.openStatusFeed!({ onChange: (ids) => ids.forEach((id) => seen.add(id)), onReconnect: () => reconnects++ });
    const reportsAnEnqueue = async (what: string) => {
      const job = payload({ queue: "feed" });
      await adapter.enqueue({ jobs: [job] });
      await waitFor(() => seen.has(job.id), { timeoutMs: 10_000, message: `the feed to report an enqueue ${what}` });
    };
    try {
      await reportsAnEnqueue("before the kill");
      expect(reconnects).toBe(0);
      let killed = 0;
      for (const node of raw.masters) {
        const list = (await node.call("CLIENT", "LIST", "TYPE", "pubsub")) as string;
        for (const line of list.split("\n").filter((entry) => entry.includes(` name=${name} `))) {
          killed += Number(await node.call("CLIENT", "KILL", "ID", /\bid=(\d+)/.exec(line)![1]!));
        }
      }
      expect(killed).toBe(1);
      await waitFor(() => reconnects > 0, { timeoutMs: 15_000, message: "onReconnect after the kill" });
      await reportsAnEnqueue("after the reconnection");
      expect(reconnects).toBe(1);
    } finally {
      await feed.close();
      await adapter.close();
      await raw.close();
    }
  });

  it("an enqueue on one node wakes a reserve waiting through the cluster's pub/sub", async () => {
    const raw = await rawCluster();
    const prefix = redisPrefix("errand-cluster");
    // A poll far longer than the deadline below: only a pub/sub message can wake the reserve in time.
    const waiter = await clusterAdapter({ prefix, pollMs: 10_000 });
    const enqueuer = await clusterAdapter({ prefix });
    const queue = "wake-me";
    const reserveOptions = { queues: [queue], max: 1, leaseMs: 30_000, workerId: "cluster-wake" };
    try {
      // A wait subscribes the waiter; the subscription lives on one node of the cluster. A
      // subscription that failed (its connection timed out under load) is made again by the
      // next wait, as a worker's next reserve would: so the look waits again while there is none.
      expect(await waiter.reserve({ ...reserveOptions, waitMs: 50 })).toEqual([]);
      await waitFor(
        async () => {
          let subscribers = 0;
          for (const node of raw.masters) subscribers += Number(((await node.call("PUBSUB", "NUMSUB", waiter.keys.wakeChannel)) as [string, number])[1]);
          if (subscribers === 0) expect(await waiter.reserve({ ...reserveOptions, waitMs: 50 })).toEqual([]);
          return subscribers === 1;
        },
        // Connecting a subscriber to a 3-node cluster took over 5 s with the machine's load at 14.
        { timeoutMs: 20_000, message: "the wake subscription on the cluster" },
      );

      // The reserve has looked once (its script ran) and is waiting when the job arrives.
      const before = await scriptCalls(raw.masters);
      // A wait far longer than the test may take: only the wake-up can end it in time.
      const pending = waiter.reserve({ ...reserveOptions, waitMs: 120_000 });
      await waitFor(async () => (await scriptCalls(raw.masters)) > before, { message: "the waiting reserve's first look" });
      const job = payload({ queue });
      await enqueuer.enqueue({ jobs: [job] });
      const reserved = await pending;

      expect(reserved.map((reservation) => reservation.providerJobId)).toEqual([job.id]);
    } finally {
      await waiter.close();
      await enqueuer.close();
      await raw.close();
    }
  });
});
