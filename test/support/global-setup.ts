// Finds the services the tests need, once per run, and hands their URLs to the test files:
// DATABASE_URL / REDIS_URL / SQS_ENDPOINT when set, else the local server, else a disposable one
// started here (for SQS, the fauxqs emulator). When
// none can be had, the URL is missing and the tests that need it fail with the reason.
// MariaDB/MySQL (MYSQL_URL, else the local server) is found by support/mysql.ts, in the
// *.mysql.test.ts files only.
import type { TestProject } from "vitest/node";

import { findPostgres } from "./postgres-server.js";
import { findRedis } from "./redis-server.js";
import { findSqs } from "./sqs-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    postgres: { url: string } | { error: string };
    redis: { url: string } | { error: string };
    sqs: { endpoint: string } | { error: string };
  }
}

export default async function setup(project: TestProject) {
  const [postgres, redis, sqs] = await Promise.all([findPostgres(), findRedis(), findSqs()]);
  project.provide("postgres", "url" in postgres ? { url: postgres.url } : { error: postgres.error });
  project.provide("redis", "url" in redis ? { url: redis.url } : { error: redis.error });
  project.provide("sqs", "endpoint" in sqs ? { endpoint: sqs.endpoint } : { error: sqs.error });
  return async () => {
    if ("stop" in postgres) await postgres.stop?.();
    if ("stop" in redis) await redis.stop?.();
    if ("stop" in sqs) await sqs.stop?.();
  };
}
