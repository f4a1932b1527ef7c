// The upgrade from layout 1 (migrate.ts) on a real three-node Redis Cluster: the old job
// hashes of a queue live on the master that holds the queue's slot, so the upgrade's SCAN must
// walk every master. Layout-1 jobs of six queues (spread over the masters: checked) are
// written with plain commands (support/redis-layout1.ts); after the upgrade no old hash is left
// on any master, every job is in its queue's jobs hash, and a drain hands out each runnable job
// once with its payload. The cluster is started here (support/redis-cluster.ts) and thrown
// away with every key in it.
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { LAYOUT_VERSION, RedisAdapter } from "@errand/adapter-redis";
import type { JobPayload } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { payload } from "./conformance/harness.js";
import { redisPrefix } from "./support/redis.js";
import { startRedisCluster, type StartedRedisCluster } from "./support/redis-cluster.js";
import { writeLayout1, type OldJob, type OldState } from "./support/redis-layout1.js";

let started: StartedRedisCluster | undefined;
let raw: Cluster | undefined;
const opened: RedisAdapter[] = [];

beforeAll(async () => {
  const cluster = await startRedisCluster();
  if ("error" in cluster) throw new Error(cluster.error);
  started = cluster;
  raw = new Cluster(cluster.nodes);
}, 30_000);

afterAll(async () => {
  await Promise.all(opened.map((adapter) => adapter.close()));
  raw?.disconnect();
  await started?.stop();
});

const QUEUES = ["q0", "q1", "q2", "q3", "q4", "q5"];

/** Keys matching `pattern` on each master, by master. */
async function keysByMaster(cluster: Cluster, pattern: string): Promise<string[][]> {
  const out: string[][] = [];
  for (const node of cluster.nodes("master")) {
    const found: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== "0");
    out.push(found);
  }
  return out;
}

describe("redis upgrade from layout 1 on a Redis Cluster", () => {
  it("finds the old job hashes on every master and moves each job once; a drain hands out every runnable one", async () => {
    const cluster = raw!;
    const prefix = redisPrefix("errand-upgrade-cluster");
    const make = (queue: string, state: OldState): OldJob => ({ payload: payload({ queue, args: { json: [queue, state] } }), state });
    const jobs = new Map<string, OldJob[]>(QUEUES.map((queue) => [queue, [make(queue, "queued"), make(queue, "queued"), make(queue, "succeeded")]]));
    for (const [queue, list] of jobs) await writeLayout1(cluster, prefix, queue, list);

    // The old hashes sit on more than one master: a scan of one node would miss some.
    const before = await keysByMaster(cluster, `${prefix}:{*}:j:*`);
    expect(before.filter((keys) => keys.length > 0).length).toBeGreaterThan(1);
    expect(before.flat()).toHaveLength(QUEUES.length * 3);

    const adapter = new RedisAdapter({ nodes: started!.nodes, prefix, pollMs: 50, migrate: false });
    opened.push(adapter);
    expect((await adapter.migrate()).applied).toHaveLength(3);
    expect((await keysByMaster(cluster, `${prefix}:{*}:j:*`)).flat()).toEqual([]);
    expect(await cluster.get(`${prefix}:layout`)).toBe(String(LAYOUT_VERSION));
    for (const queue of QUEUES) expect(await cluster.hlen(adapter.keys.queue(queue).jobs), queue).toBe(3);

    const all = [...jobs.values()].flat();
    const statuses = await adapter.getStatus({ ids: all.map((job) => job.payload.id) });
    expect(statuses.map((status) => status?.state)).toEqual(all.map((job) => job.state));

    const runnable = new Map(all.filter((job) => job.state === "queued").map((job) => [job.payload.id, job.payload]));
    const seen = new Map<string, JobPayload>();
    await waitFor(async () => {
      const got = await adapter.reserve({ queues: QUEUES, max: 100, leaseMs: 30_000, waitMs: 0, workerId: "upgrade-cluster-test" });
      for (const reservation of got) {
        expect(seen.has(reservation.providerJobId), `${reservation.providerJobId} reserved twice`).toBe(false);
        seen.set(reservation.providerJobId, JSON.parse(reservation.body) as JobPayload);
      }
      await adapter.settle({ settlements: got.map((reservation) => ({ reservation, outcome: "succeeded" as const })) });
      return seen.size >= runnable.size;
    }, { message: "every runnable old job to be reserved" });
    expect(seen).toEqual(runnable);
    expect(await adapter.migrate()).toEqual({ applied: [] });
  });
});
