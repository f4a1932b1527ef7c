// Conformance wiring for @errand/adapter-redis: a key prefix of its own per case.
import { afterAll } from "vitest";

import { RedisAdapter } from "@errand/adapter-redis";

import { runConformance } from "./conformance/index.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { insertRawJob } from "./support/redis-jobs.js";

const url = redisUrl();
const prefixes: string[] = [];
afterAll(() => dropPrefixes(url, prefixes));

runConformance({
  name: "redis",
  capabilities: RedisAdapter.capabilities,
  create: async () => {
    const prefix = redisPrefix();
    prefixes.push(prefix);
    return new RedisAdapter({ url, prefix, pollMs: 50 });
  },
  // Another process of the same app: the same Redis and prefix.
  peer: async (adapter) => new RedisAdapter({ url, prefix: (adapter as RedisAdapter).keys.prefix, pollMs: 50 }),
  // A raw body goes straight into the queue's keys, bypassing the adapter's own encoding.
  insertRaw: async (adapter, body, queue) => {
    const { client, keys } = adapter as RedisAdapter;
    const id = `raw-${Math.random().toString(36).slice(2)}`;
    await insertRawJob(client, keys.queue(queue), id, "raw", body);
    await client.sadd(keys.queues, queue);
  },
});
