// Where the Redis for the tests comes from: REDIS_URL, else 127.0.0.1:6379, else a
// disposable redis-server started on a free loopback port in a temporary directory.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { Redis } from "ioredis";

import { freePort } from "./ports.js";

type Found = { url: string; stop?: () => Promise<void> } | { error: string };

export const REDIS_HOW_TO =
  "Redis is needed: set REDIS_URL=redis://host:6379, or start the local server (redis-server --daemonize yes), " +
  "or install it (apt-get install redis-server)";

/** Whether a Redis answers PING at `url` within two seconds. */
export async function redisReachable(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Starts `redis-server` with `args` in a temporary directory; resolves once it answers on `port`.
 * `args` may be a function of that directory, for options naming files in it.
 */
export async function startRedisServer(
  port: number,
  args: string[] | ((dir: string) => string[]) = [],
): Promise<{ url: string; dir: string; stop: () => Promise<void> } | { error: string }> {
  const dir = mkdtempSync(join(tmpdir(), "errand-redis-"));
  const extra = typeof args === "function" ? args(dir) : args;
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, ...extra], {
    stdio: "ignore",
  });
  const spawnError = new Promise<string>((resolve) => child.once("error", (error) => resolve(error.message)));
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const failed = await Promise.race([spawnError, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 50))]);
    // stop() also removes the temp dir, which a failed start would otherwise leave behind.
    if (failed) return stop().then(() => ({ error: `redis-server could not be started: ${failed}` }));
    if (child.exitCode !== null) return stop().then(() => ({ error: `redis-server exited with code ${child.exitCode}` }));
    if (await redisReachable(url)) return { url, dir, stop };
  }
  await stop();
  return { error: "redis-server did not answer within 10 s" };
}

/** The Redis the tests use, or why there is none. */
export async function findRedis(): Promise<Found> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) return (await redisReachable(fromEnv)) ? { url: fromEnv } : { error: `REDIS_URL=${fromEnv} is not reachable. ${REDIS_HOW_TO}` };
  const local = "redis://127.0.0.1:6379";
  if (await redisReachable(local)) return { url: local };
  const started = await startRedisServer(await freePort());
  return "error" in started ? { error: `${REDIS_HOW_TO} (${started.error})` } : started;
}
