// The NestJS example app (examples/nestjs, compiled by `tsc -b` with experimentalDecorators
// + emitDecoratorMetadata, as Nest apps are) for the tests that run it: its classes, an
// application context in the test process that only enqueues, and the backends it runs
// on, each case with its own Redis key prefix or PostgreSQL schema.
import "reflect-metadata";
import { join } from "node:path";

import { NestFactory } from "@nestjs/core";
import type { INestApplicationContext } from "@nestjs/common";
import type { AdapterSetting } from "@errand/core";
import { afterAll } from "vitest";

import { ROOT } from "./cli.js";
import { dropSchemas, postgresUrl, schemaName } from "./postgres.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./redis.js";

/** Where `tsc -b` puts the compiled example. */
export const EXAMPLE = join(ROOT, "examples/dist/nestjs");
export const { AppModule } = (await import(join(EXAMPLE, "app.module.js"))) as typeof import("../../examples/nestjs/app.module.js");
export const { SignupService } = (await import(join(EXAMPLE, "signup.service.js"))) as typeof import("../../examples/nestjs/signup.service.js");
export const { SlowJob } = (await import(join(EXAMPLE, "slow.job.js"))) as typeof import("../../examples/nestjs/slow.job.js");
export const { WelcomeJob } = (await import(join(EXAMPLE, "welcome.job.js"))) as typeof import("../../examples/nestjs/welcome.job.js");

/**
 * Boots the example's module in this process with `work: false` (the side that enqueues),
 * on `adapter` (the module reads it from `ERRAND_ADAPTER` while it boots).
 */
export async function enqueuingApp(adapter: AdapterSetting): Promise<INestApplicationContext> {
  process.env.ERRAND_ADAPTER = JSON.stringify(adapter);
  try {
    return await NestFactory.createApplicationContext(AppModule.register({ work: false }), { logger: ["error", "warn"] });
  } finally {
    delete process.env.ERRAND_ADAPTER;
  }
}

/**
 * The backends the example runs on, for `describe.each`: each call of a factory makes a
 * fresh Redis prefix or PostgreSQL schema named after `tag`, dropped after the file.
 */
export function nestBackends(tag: string): [name: string, adapter: () => AdapterSetting][] {
  const prefixes: string[] = [];
  const schemas: string[] = [];
  afterAll(async () => {
    await dropPrefixes(redisUrl(), prefixes);
    await dropSchemas(postgresUrl(), schemas);
  });
  return [
    ["redis", () => ({ use: "redis", url: redisUrl(), prefix: prefixes[prefixes.push(redisPrefix(`errand-${tag}`)) - 1] })],
    ["postgres", () => ({ use: "postgres", url: postgresUrl(), schema: schemas[schemas.push(schemaName(`errand_${tag}`)) - 1], poolSize: 4 })],
  ];
}
