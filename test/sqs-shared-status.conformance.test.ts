// The SQS conformance suite again, with statuses in the stores shared by every process
// (`RedisStatusStore`, `PostgresStatusStore`) instead of this process's memory: what a
// deployment with separate web and worker processes runs.
import { afterAll } from "vitest";

import { PostgresStatusStore } from "@errand/adapter-postgres";
import { RedisStatusStore } from "@errand/adapter-redis";
import { SqsAdapter } from "@errand/adapter-sqs";

import { runConformance } from "./conformance/index.js";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { sqsEndpoint, sqsPrefix, TEST_SQS_CONFIG } from "./support/sqs.js";

const endpoint = sqsEndpoint();
const databaseUrl = postgresUrl();
const redis = redisUrl();
const schemas: string[] = [];
const prefixes: string[] = [];
afterAll(() => Promise.all([dropSchemas(databaseUrl, schemas), dropPrefixes(redis, prefixes)]));

const stores = {
  "redis status": () => {
    const prefix = redisPrefix("errand-status-t");
    prefixes.push(prefix);
    return new RedisStatusStore({ url: redis, prefix });
  },
  "postgres status": () => {
    const schema = schemaName("errand_status_t");
    schemas.push(schema);
    return new PostgresStatusStore({ url: databaseUrl, schema });
  },
};

for (const [name, store] of Object.entries(stores)) {
  runConformance({
    name: `sqs + ${name}`,
    capabilities: SqsAdapter.capabilities,
    create: async () => new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix: sqsPrefix(), status: store() }),
  });
}
