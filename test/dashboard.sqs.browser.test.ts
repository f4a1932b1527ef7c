// The dashboard in Chromium on SQS with statuses in the Redis status store (as in
// web-app.sqs.browser.test.ts): the store's operator side gives the adapter listJobs and
// control, so every page and action of the other backends works here too.
import { RedisStatusStore } from "@errand/adapter-redis";
import { SqsAdapter } from "@errand/adapter-sqs";

import { runDashboardScenarios } from "./dashboard/scenarios.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { sqsEndpoint, sqsPrefix, TEST_SQS_CONFIG } from "./support/sqs.js";

const endpoint = sqsEndpoint();
const redis = redisUrl();
const prefix = redisPrefix("errand-dash-status");

runDashboardScenarios({
  name: "sqs + redis status store",
  adapter: async () =>
    new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix: sqsPrefix("dash"), status: new RedisStatusStore({ url: redis, prefix }) }),
  // Status keys start with their hash tag, `{prefix}:`.
  cleanup: () => dropPrefixes(redis, [`{${prefix}}`]),
});
