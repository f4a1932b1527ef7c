// Writing a job record straight into a Redis adapter's keys (layouts 2 and 3, job-lib.lua), as the
// adapter's enqueue.lua writes a ready job, for tests that bypass the adapter's encoding.
import type { QueueKeys } from "@errand/adapter-redis";
import type { Cluster, Redis } from "ioredis";

const WRITE_READY = `
redis.call('HSET', KEYS[1], ARGV[1], cmsgpack.pack({ b = ARGV[2], j = ARGV[3], s = 'queued', n = tonumber(ARGV[4]), u = 0 }))
redis.call('RPUSH', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[2], 0, 0)`;

/** Stores a queued job of priority 0 with a verbatim `body` (anything, even not JSON) at the end of `keys`' ready list. */
export async function insertRawJob(client: Redis | Cluster, keys: QueueKeys, id: string, job: string, body: string): Promise<void> {
  await client.eval(WRITE_READY, 3, keys.jobs, keys.prios, `${keys.prios.slice(0, -"prios".length)}ready:0`, id, body, job, Date.now());
}

/** The ready job ids of a queue in the order reserve takes them: lowest priority first, FIFO within one. */
export async function readyIds(client: Redis | Cluster, keys: QueueKeys): Promise<string[]> {
  const priorities = await client.zrange(keys.prios, 0, -1);
  const lists = await Promise.all(priorities.map((p) => client.lrange(`${keys.prios.slice(0, -"prios".length)}ready:${p}`, 0, -1)));
  return lists.flat();
}
