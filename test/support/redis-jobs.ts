// Writing a job record straight into a Redis adapter's keys (layout 2, job-lib.lua), as the
// adapter's enqueue.lua writes a ready job, for tests that bypass the adapter's encoding.
import type { QueueKeys } from "@errand/adapter-redis";
import type { Cluster, Redis } from "ioredis";

const WRITE_READY = `
local now = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], ARGV[1], cmsgpack.pack({ b = ARGV[2], j = ARGV[3], s = 'queued', n = now, u = now, c = tonumber(ARGV[5]) }))
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])`;

/** Stores a queued job with a verbatim `body` (anything, even not JSON) at the end of `keys`' ready set. */
export async function insertRawJob(client: Redis | Cluster, keys: QueueKeys, id: string, job: string, body: string): Promise<void> {
  const score = 1_048_576 * 2 ** 32 + Number(await client.incr(keys.seq));
  await client.eval(WRITE_READY, 2, keys.jobs, keys.ready, id, body, job, Date.now(), score);
}
