// The dashboard in Chromium on Redis: a Worker takes jobs through the adapter, pauses and
// aborts reach it through its heartbeat, and the page follows the status channel.
import { RedisAdapter } from "@errand/adapter-redis";

import { runDashboardScenarios } from "./dashboard/scenarios.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";

const url = redisUrl();
const prefix = redisPrefix("errand-dash");

runDashboardScenarios({
  name: "redis",
  adapter: async () => new RedisAdapter({ url, prefix }),
  cleanup: () => dropPrefixes(url, [prefix]),
});
