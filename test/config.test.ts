// Configuration: environments, ERRAND_URL, config files (.ts through tsx, .mjs), job
// globs, named adapters and the error for an adapter package that is not installed.
import { fileURLToPath } from "node:url";

import { afterEach, describe, expect, it } from "vitest";

import {
  AdapterNotInstalledError,
  adapterPackage,
  ConfigError,
  configure,
  currentEnvironment,
  Job,
  loadConfig,
  Runtime,
  settingFromUrl,
} from "@errand/core";

const fixtures = fileURLToPath(new URL("./fixtures/config/", import.meta.url));
const savedUrl = process.env.ERRAND_URL;
afterEach(() => {
  if (savedUrl === undefined) delete process.env.ERRAND_URL;
  else process.env.ERRAND_URL = savedUrl;
});

describe("environment", () => {
  it("is ERRAND_ENV, else NODE_ENV, else development", () => {
    expect(currentEnvironment({ ERRAND_ENV: "staging", NODE_ENV: "production" })).toBe("staging");
    expect(currentEnvironment({ NODE_ENV: "production" })).toBe("production");
    expect(currentEnvironment({})).toBe("development");
  });

  it("picks the adapter of the environment; a missing one is an error listing the configured ones", async () => {
    const adapter = { development: "async", test: "test" } as const;
    expect((await new Runtime({ adapter, environment: "test" }).adapterFor()).name).toBe("test");
    await expect(new Runtime({ adapter, environment: "production" }).adapterFor()).rejects.toThrow(
      'adapter: no adapter for environment "production" (configured: development, test)',
    );
  });
});

describe("ERRAND_URL", () => {
  it("overrides the configured adapter by scheme", async () => {
    process.env.ERRAND_URL = "inline:";
    expect((await new Runtime({ adapter: "test" }).adapterFor()).name).toBe("inline");
  });

  it.each([
    ["redis://localhost:6379", "@errand/adapter-redis"],
    ["rediss://cache:6380", "@errand/adapter-redis"],
    ["postgres://db/app", "@errand/adapter-postgres"],
    ["postgresql://db/app", "@errand/adapter-postgres"],
    ["sqs://us-east-1/jobs", "@errand/adapter-sqs"],
    ["https://sqs.eu-west-1.amazonaws.com/123/jobs", "@errand/adapter-sqs"],
  ])("%s selects %s", (url, pkg) => {
    const setting = settingFromUrl(url);
    expect(setting.url).toBe(url);
    expect(adapterPackage(setting.use)).toBe(pkg);
  });

  it("an unknown scheme is an error naming the value", async () => {
    process.env.ERRAND_URL = "mysql://db";
    await expect(new Runtime({}).adapterFor()).rejects.toThrow('ERRAND_URL "mysql://db" has no known scheme');
  });
});

describe("adapters", () => {
  it("a configured adapter package that is not installed says what to install", async () => {
    const error = await new Runtime({ adapter: { use: "errand-adapter-nope" } }).adapterFor().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdapterNotInstalledError);
    expect((error as Error).message).toBe(
      "the errand-adapter-nope adapter is configured but errand-adapter-nope is not installed: run `npm install errand-adapter-nope`",
    );
  });

  it("a job class pinned to a named adapter uses it; an unknown name is a clear error", async () => {
    const runtime = configure({ adapter: "test", adapters: { side: { test: "inline", default: "test" } }, environment: "test" });
    class Pinned extends Job<[]> {
      static override adapter = "side";
      perform() {
        return "ran inline";
      }
    }
    const result = await Pinned.performLater();
    expect(result.adapter).toBe("inline");
    expect((await Pinned.status(result.jobId))?.result).toBe("ran inline");
    class Lost extends Job<[]> {
      static override adapter = "nowhere";
      perform() {}
    }
    await expect(Lost.performLater()).rejects.toThrow('a job is pinned to adapter "nowhere", which is not in config.adapters');
    await runtime.close();
  });

  it("queueNamePrefix is applied to job queues", async () => {
    const runtime = configure({ adapter: "test", queueNamePrefix: "shop" });
    class Prefixed extends Job<[]> {
      static override queue = "mailers";
      perform() {}
    }
    expect((await Prefixed.performLater()).queue).toBe("shop_mailers");
    expect((await Prefixed.set({ queue: "low" }).performLater()).queue).toBe("shop_low");
    await runtime.close();
  });

  it("a bad default retry policy is refused at configure time", () => {
    expect(() => configure({ retry: { attempts: 0 } })).toThrow(ConfigError);
    expect(() => configure({ retry: { wait: "later" } })).toThrow(
      'option "retry.wait" in the Errand config must be "polynomial", "exponential", a function or a duration (milliseconds, "90s", { minutes: 5 }), got "later"',
    );
  });
});

describe("config files", () => {
  it("loads errand.config.ts from the working directory and registers job classes from its globs", async () => {
    const config = await loadConfig({ cwd: `${fixtures}ts` });
    expect(config).toMatchObject({ app: "ts-app", queueNamePrefix: "ts", root: `${fixtures}ts` });
    const runtime = new Runtime({ ...config, environment: "test" });
    await runtime.loadJobs();
    expect(runtime.registry.list()).toEqual(["GreetJob"]);
    expect(runtime.queueName("greetings")).toBe("ts_greetings");
  });

  it("loads a .mjs config given by path; every exported job class is registered under its name", async () => {
    const config = await loadConfig({ path: "test/fixtures/config/mjs/errand.config.mjs", cwd: fileURLToPath(new URL("..", import.meta.url)) });
    expect(config.worker).toEqual({ concurrency: 3 });
    const runtime = new Runtime(config);
    await runtime.loadJobs();
    expect(runtime.registry.list()).toEqual(["DefaultJob", "OneJob", "Two"]);
  });

  it("without a config file, defaults apply", async () => {
    expect(await loadConfig({ cwd: fixtures })).toEqual({ root: fixtures });
  });

  it("a missing --config file and a config that is not an object are clear errors", async () => {
    await expect(loadConfig({ path: "nope.config.mjs", cwd: fixtures })).rejects.toThrow("config file nope.config.mjs not found");
    await expect(loadConfig({ cwd: `${fixtures}bad` })).rejects.toThrow("must default-export defineConfig({...})");
  });

  it("a jobs glob that matches nothing is an error naming it", async () => {
    const runtime = new Runtime({ jobs: ["./missing/*.js"], root: fixtures });
    await expect(runtime.loadJobs()).rejects.toThrow("jobs: ./missing/*.js matched no files");
  });
});
