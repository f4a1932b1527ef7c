// Nothing in configuration is silently ignored: defineConfig, configure, loadConfig and every
// adapter's options refuse an unknown key (naming the nearest known one) and a value of the
// wrong kind (naming key and value), without printing secrets. No backend is reached: the
// options are checked before any connection is made.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { ConfigError, configure, defineConfig, loadConfig, Runtime, Worker, type ErrandConfig, type WorkerOptions } from "@errand/core";
import { LocalStatusStore, rules, validateOptions } from "@errand/core/adapter";
import { AsyncAdapter } from "@errand/adapter-async";
import { PostgresAdapter, PostgresStatusStore } from "@errand/adapter-postgres";
import { RedisAdapter, RedisStatusStore } from "@errand/adapter-redis";
import { SqsAdapter } from "@errand/adapter-sqs";

/** The ConfigError `action` throws (fails the test when it throws nothing else). */
function configError(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe("ERR_CONFIG");
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError, nothing was thrown");
}

// Written as a JavaScript config file would be: no type checking on the way in.
const untyped = (config: Record<string, unknown>) => config as ErrandConfig;

describe("the Errand config", () => {
  it("an unknown key, at any depth, names the key and the nearest valid one", () => {
    expect(configError(() => defineConfig(untyped({ worker: { leaseMs: 60_000 } }))).message).toBe(
      'unknown option "worker.leaseMs" in the Errand config; did you mean "worker.lease"?',
    );
    // "mailers" is closer by spelling, but only "mail" takes a { transport } object.
    expect(configError(() => defineConfig(untyped({ mailer: { transport: "test" } }))).message).toBe(
      'unknown option "mailer" in the Errand config; did you mean "mail"?',
    );
    expect(configError(() => configure(untyped({ mail: { trasport: "test" } }))).message).toBe(
      'unknown option "mail.trasport" in the Errand config; did you mean "mail.transport"?',
    );
  });

  it("an unknown key nothing resembles lists the valid ones", () => {
    expect(configError(() => new Runtime(untyped({ retry: { tries: 3 } }))).message).toBe(
      'unknown option "retry.tries" in the Errand config; valid options: attempts, wait, jitter',
    );
  });

  it("a value of the wrong kind names key, expected kind and value", () => {
    expect(configError(() => defineConfig(untyped({ worker: { concurrency: "20" } }))).message).toBe(
      'option "worker.concurrency" in the Errand config must be a positive integer, got "20"',
    );
    expect(configError(() => configure(untyped({ worker: { lease: "5 minutes" } }))).message).toContain(
      'option "worker.lease" in the Errand config must be a duration',
    );
    expect(configError(() => configure(untyped({ worker: { embedded: "no" } }))).message).toBe(
      'option "worker.embedded" in the Errand config must be true or false, got "no"',
    );
    expect(configError(() => configure(untyped({ jobs: ["./jobs/*.js", 3] }))).message).toBe(
      'option "jobs[1]" in the Errand config must be a function or a non-empty string, got 3',
    );
  });

  it("checks each environment's adapter and each named adapter", () => {
    expect(configError(() => configure(untyped({ adapter: { test: "test", production: 5 } }))).message).toMatch(
      /^option "adapter.production" in the Errand config must be an adapter setting .*, got 5$/,
    );
    expect(configError(() => configure(untyped({ adapter: "test", adapters: { reports: true } }))).message).toMatch(
      /^option "adapters.reports" in the Errand config must be an adapter setting/,
    );
  });

  it("accepts every documented form", () => {
    const config = defineConfig({
      app: "shop",
      adapter: { test: "test", development: "async", production: { use: "redis", url: "redis://localhost" } },
      adapters: { reports: { use: "postgres", url: "postgres://localhost/db" }, side: "inline" },
      jobs: ["./jobs/*.js", class {}],
      mail: { transport: { jsonTransport: true } },
      queueNamePrefix: "shop",
      queueNameDelimiter: "-",
      retry: { attempts: 5, wait: "exponential", jitter: 0 },
      worker: { concurrency: 5, queues: ["critical,2", "default"], prefetch: 0, lease: "5m", pollInterval: 500, shutdownGrace: { seconds: 25 }, embedded: false },
      environment: "test",
      root: "/srv/app",
    });
    expect(config.app).toBe("shop");
  });

  it("a config file is checked when loaded, naming the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "errand-config-"));
    writeFileSync(join(dir, "errand.config.mjs"), "export default { worker: { concurency: 4 } };\n");
    const error = await loadConfig({ cwd: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      `unknown option "worker.concurency" in ${join(dir, "errand.config.mjs")}; did you mean "worker.concurrency"?`,
    );
  });

  it("never prints a password in a URL, or a value under a secret-looking key", () => {
    const message = configError(() =>
      configure(untyped({ mail: { transport: ["smtp://mailer:hunter2@smtp.example.com", { auth: { user: "u", pass: "hunter3" } }] } })),
    ).message;
    expect(message).toContain("smtp://mailer:***@smtp.example.com");
    expect(message).not.toContain("hunter2");
    expect(message).not.toContain("hunter3");
  });
});

describe("adapter options", () => {
  it("the test and inline adapters take none", async () => {
    await expect(new Runtime(untyped({ adapter: { use: "test", url: "test:" } })).adapterFor()).rejects.toThrow(
      'unknown option "url" in the test adapter options (adapter); it takes none',
    );
  });

  it("each adapter refuses an unknown option through config, naming the nearest valid one", async () => {
    const url = "redis://user:s3cret@localhost:6379";
    const error = await new Runtime({ adapter: { use: "redis", url, pollMS: 100 } }).adapterFor().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('unknown option "pollMS" in the redis adapter options; did you mean "pollMs"?');
    await expect(new Runtime({ adapter: { use: "postgres", url: "postgres://localhost/db", schemaName: "x" } }).adapterFor()).rejects.toThrow(
      'unknown option "schemaName" in the postgres adapter options; did you mean "schema"?',
    );
    await expect(new Runtime({ adapter: { use: "sqs", statusStore: new LocalStatusStore() } }).adapterFor()).rejects.toThrow(
      'unknown option "statusStore" in the sqs adapter options; did you mean "status"?',
    );
    await expect(new Runtime({ adapter: { use: "async", maxDeadJobs: 5 } }).adapterFor()).rejects.toThrow(
      'unknown option "maxDeadJobs" in the async adapter options; did you mean "maxDead"?',
    );
  });

  it("each adapter and status store refuses a value of the wrong kind, built directly too", () => {
    const untypedOptions = <T>(options: Record<string, unknown>) => options as T;
    expect(configError(() => new RedisAdapter(untypedOptions({ url: "redis://localhost", pollMs: "1s" }))).message).toBe(
      'option "pollMs" in the redis adapter options must be a number >= 0, got "1s"',
    );
    expect(configError(() => new PostgresAdapter(untypedOptions({ url: "postgres://localhost/db", poolSize: 0 }))).message).toBe(
      'option "poolSize" in the postgres adapter options must be a positive integer, got 0',
    );
    expect(configError(() => new SqsAdapter(untypedOptions({ receivesInFlight: 0 }))).message).toBe(
      'option "receivesInFlight" in the sqs adapter options must be a positive integer, got 0',
    );
    expect(configError(() => new SqsAdapter(untypedOptions({ status: { get: () => [] } }))).message).toMatch(
      /^option "status" in the sqs adapter options must be a status store/,
    );
    expect(configError(() => new AsyncAdapter(untypedOptions({ statuses: { ttl: 5 } }))).message).toBe(
      'unknown option "statuses.ttl" in the async adapter options; valid options: maxFinished, finishedTtlMs',
    );
    expect(configError(() => new RedisStatusStore(untypedOptions({ url: "redis://localhost", ttlMs: 5 }))).message).toContain(
      'unknown option "ttlMs" in the redis status store options',
    );
    expect(configError(() => new PostgresStatusStore(untypedOptions({ url: "postgres://localhost/db", finishedTtl: 5 }))).message).toBe(
      'unknown option "finishedTtl" in the postgres status store options; did you mean "finishedTtlMs"?',
    );
    expect(configError(() => new RedisStatusStore(untypedOptions({ url: "redis://localhost", deadTtl: 5 }))).message).toBe(
      'unknown option "deadTtl" in the redis status store options; did you mean "deadTtlMs"?',
    );
  });

  it("an adapter URL is redacted when it is the bad value", () => {
    const message = configError(() => new SqsAdapter({ url: "sqs://us-east-1", endpoint: ["http://key:topsecret@localhost:4566"] as unknown as string })).message;
    expect(message).toContain("http://key:***@localhost:4566");
    expect(message).not.toContain("topsecret");
  });

  it("validateOptions is there for third-party adapters", () => {
    const schema = { region: rules.nonEmptyString, batch: rules.integer(1) };
    expect(() => validateOptions({ region: "eu", batch: 10 }, schema, "the acme adapter options")).not.toThrow();
    expect(configError(() => validateOptions({ regoin: "eu" }, schema, "the acme adapter options")).message).toBe(
      'unknown option "regoin" in the acme adapter options; did you mean "region"?',
    );
  });
});

describe("the worker options", () => {
  const runtime = () => new Runtime({ adapter: "test" });

  it("new Worker refuses an unknown option, naming the nearest valid one", () => {
    const options = { runtime: runtime(), leaseMs: 60_000 } as unknown as WorkerOptions;
    expect(configError(() => new Worker(options)).message).toBe('unknown option "leaseMs" in the worker options; did you mean "lease"?');
  });

  it("new Worker refuses a value of the wrong kind, naming option and value", () => {
    const options = { runtime: runtime(), concurrency: "20" } as unknown as WorkerOptions;
    expect(configError(() => new Worker(options)).message).toBe('option "concurrency" in the worker options must be a positive integer, got "20"');
    expect(configError(() => new Worker({ runtime: {} as Runtime })).message).toMatch(/option "runtime" in the worker options must be a Runtime/);
  });
});

describe("the default retry policy", () => {
  it("accepts attempts: Infinity, as retryOn does", () => {
    expect(new Runtime({ adapter: "test", retry: { attempts: Infinity } }).retryPolicy.attempts).toBe(Infinity);
    expect(configError(() => new Runtime({ adapter: "test", retry: { attempts: 0 } })).message).toMatch(/retry\.attempts.*must be a positive integer or Infinity, got 0/);
  });
});
