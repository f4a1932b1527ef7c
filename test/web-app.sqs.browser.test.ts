// The web example in Chromium on SQS with statuses in the Redis status store, shared by the
// web process and the worker (as separate processes would share it).
import { RedisStatusStore } from "@errand/adapter-redis";
import { SqsAdapter } from "@errand/adapter-sqs";

import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { sqsEndpoint, sqsPrefix, TEST_SQS_CONFIG } from "./support/sqs.js";
import { runWebAppScenarios } from "./web-app/scenarios.js";

const endpoint = sqsEndpoint();
const redis = redisUrl();
const prefix = redisPrefix("errand-web-status");

runWebAppScenarios({
  name: "sqs + redis status store",
  adapter: async () =>
    new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix: sqsPrefix("web"), status: new RedisStatusStore({ url: redis, prefix }) }),
  cleanup: () => dropPrefixes(redis, [prefix]),
});
