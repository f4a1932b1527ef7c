// The web example in Chromium on Redis: a Worker runs the jobs, and statuses reach the
// page through the adapter's status channel.
import { RedisAdapter } from "@errand/adapter-redis";

import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { runWebAppScenarios } from "./web-app/scenarios.js";

const url = redisUrl();
const prefix = redisPrefix("errand-web");

runWebAppScenarios({
  name: "redis",
  adapter: async () => new RedisAdapter({ url, prefix }),
  cleanup: () => dropPrefixes(url, [prefix]),
});
