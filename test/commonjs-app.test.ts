// CommonJS apps (issue 18, part 4): the packed packages installed in an app outside the
// monorepo whose package.json has no "type", loaded with `require()` — Node 20.19+ loads an
// ES module graph that way when it has no top-level await — and a TypeScript app compiled
// to CommonJS by tsc with NestJS's settings, decorators included. docs/commonjs.md says
// which Node and TypeScript versions this holds for.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { createApp, run, start, userAppHooks, type UserApp } from "./support/user-app.js";

userAppHooks();
const prefixes: string[] = [];
afterAll(() => dropPrefixes(redisUrl(), prefixes));

/** Packing and a cold install of the largest set take ~25 s on a loaded 2-core machine. */
const INSTALL_MS = 300_000;

/** Each public entry point of the packages, with an export it must have. */
const ENTRIES: Record<string, string> = {
  "@errand/core": "Job",
  "@errand/core/testing": "waitFor",
  "@errand/core/adapter": "AdapterClient",
  "@errand/adapter-async": "AsyncAdapter",
  "@errand/adapter-redis": "RedisAdapter",
  "@errand/adapter-postgres": "PostgresAdapter",
  "@errand/adapter-sqs": "SqsAdapter",
};

const JS_APP: Record<string, string> = {
  "require-all.js": `
const entries = ${JSON.stringify(Object.keys(ENTRIES))};
const loaded = {};
for (const name of entries) loaded[name] = Object.keys(require(name));
import("@errand/core").then((esm) => {
  console.log(JSON.stringify({ loaded, commonjs: typeof module === "object", oneCore: esm.Job === require("@errand/core").Job }));
});
`,
  "errand.config.js": `
const { defineConfig } = require("@errand/core");

module.exports = defineConfig({
  app: "cjs-app",
  adapter: { use: "redis", url: process.env.REDIS_URL, prefix: process.env.APP_PREFIX },
  jobs: ["./jobs/*.js"],
  worker: { pollInterval: "20ms" },
});
`,
  "jobs/report.js": `
const { Job } = require("@errand/core");

class ReportJob extends Job {
  static queue = "reports";
  async perform(month) {
    return { month, by: typeof require };
  }
}

module.exports = { ReportJob };
`,
  // module.exports set to a variable: Node cannot name these exports, so only the
  // default (module.exports itself) carries the class.
  "jobs/resize.js": `
const { Job } = require("@errand/core");

const jobs = {};
jobs.ResizeJob = class ResizeJob extends Job {
  async perform(width) {
    return width / 2;
  }
};

module.exports = jobs;
`,
  "enqueue.js": `
const { configure } = require("@errand/core");
const config = require("./errand.config.js");
const { ReportJob } = require("./jobs/report.js");
const { ResizeJob } = require("./jobs/resize.js");

async function main() {
  const runtime = configure(config);
  const report = await ReportJob.performLater("2026-11");
  const resize = await ResizeJob.performLater(640);
  console.log(JSON.stringify({ report: report.jobId, resize: resize.jobId, queue: report.queue }));
  await runtime.close();
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
`,
  "status.js": `
const { configure, getStatus } = require("@errand/core");

async function main() {
  const runtime = configure(require("./errand.config.js"));
  const statuses = await Promise.all(process.argv.slice(2).map((id) => getStatus(id)));
  console.log(JSON.stringify(statuses.map((status) => ({ state: status.state, result: status.result }))));
  await runtime.close();
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
`,
};

describe("a JavaScript CommonJS app", () => {
  let app: UserApp;
  let env: Record<string, string>;
  beforeAll(async () => {
    app = await createApp({
      packages: ["core", "adapter-async", "adapter-redis", "adapter-postgres", "adapter-sqs"],
      packageJson: { name: "cjs-app" },
      files: JS_APP,
    });
    env = { REDIS_URL: redisUrl(), APP_PREFIX: prefixes[prefixes.push(redisPrefix("errand-cjs")) - 1]! };
  }, INSTALL_MS);

  it("require()s every entry point: no package's module graph has a top-level await, and require and import share one core", async () => {
    expect(app.packageJson).not.toHaveProperty("type");
    const result = await run(app, "node", ["require-all.js"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as { loaded: Record<string, string[]>; commonjs: boolean; oneCore: boolean };
    expect(out.commonjs).toBe(true);
    expect(out.oneCore).toBe(true);
    for (const [entry, name] of Object.entries(ENTRIES)) expect(out.loaded[entry], entry).toContain(name);
  });

  it("enqueues from a CommonJS script, and `npx errand work` loads errand.config.js and the CommonJS job files", async () => {
    const enqueued = await run(app, "node", ["enqueue.js"], { env });
    expect(enqueued.stderr).toBe("");
    expect(enqueued.code).toBe(0);
    const ids = JSON.parse(enqueued.stdout) as { report: string; resize: string; queue: string };
    expect(ids.queue).toBe("reports");

    const worker = start(app, "npx", ["--no", "errand", "work", "-q", "reports", "-q", "default"], { env });
    // npx and the CLI's imports take ~3 s on a loaded 2-core machine.
    await worker.line(new RegExp(`ReportJob ${ids.report} completed`), 40_000);
    await worker.line(new RegExp(`ResizeJob ${ids.resize} completed`));
    // npx exits on SIGTERM without passing it on, so the signal goes to its process group:
    // the worker's own shutdown line shows it stopped gracefully.
    const stopped = await worker.stop("SIGTERM");
    expect(stopped.stdout).toMatch(/stopped: 2 job\(s\) processed, 0 released/);
    expect(stopped.stderr).toBe("");

    const statuses = await run(app, "node", ["status.js", ids.report, ids.resize], { env });
    expect(statuses.code, statuses.stderr).toBe(0);
    expect(JSON.parse(statuses.stdout)).toEqual([
      { state: "succeeded", result: { month: "2026-11", by: "function" } },
      { state: "succeeded", result: 320 },
    ]);
  }, 90_000);
});

const REPORT_JOB = `
import { Job, queueAs, retryOn } from "@errand/core";

export class FlakyApiError extends Error {}

@queueAs("reports")
@retryOn(FlakyApiError, { attempts: 3, wait: 10 })
export class ReportJob extends Job<[month: string], { month: string; executions: number }> {
  async perform(month: string) {
    if (this.executions === 1) throw new FlakyApiError("first call fails");
    return { month, executions: this.executions };
  }
}
`;

const MAIN = `
import "reflect-metadata";
import { configure, Worker } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { ReportJob } from "./report.job";

async function main(): Promise<void> {
  const runtime = configure({
    app: "nest-style",
    adapter: { use: "redis", url: process.env.REDIS_URL!, prefix: process.env.APP_PREFIX! },
  });
  const { jobId, queue } = await ReportJob.performLater("2026-11");
  const worker = new Worker({ runtime, queues: "reports", pollInterval: "20ms" });
  await worker.start();
  const status = await waitFor(async () => {
    const current = await ReportJob.status(jobId);
    return current?.state === "succeeded" && current;
  }, { timeoutMs: 20_000 });
  await worker.stop();
  await runtime.close();
  console.log(JSON.stringify({ queue, result: status.result }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

/** Type-only imports of every subpath of the other packages: under `module: commonjs` (node10 resolution, no `exports`) their `typesVersions` must find them. */
const SUBPATHS = `
import type * as prisma from "@errand/orm/prisma";
import type * as drizzle from "@errand/orm/drizzle";
import type * as kysely from "@errand/orm/kysely";
import type * as knex from "@errand/orm/knex";
import type * as typeorm from "@errand/orm/typeorm";
import type { WatchOptions } from "@errand/client";
import type { JobWatch } from "@errand/client/react";
import type { run } from "@errand/core/cli";

export type Subpaths = [typeof prisma, typeof drizzle, typeof kysely, typeof knex, typeof typeorm, WatchOptions, JobWatch, typeof run];
`;

/** The tsconfig.json of \`nest new --type cjs\` (@nestjs/schematics 12.0.17; the same module settings since 11.0.6, July 2025), strict. */
const NEST_TSCONFIG = {
  compilerOptions: {
    module: "nodenext",
    moduleResolution: "nodenext",
    resolvePackageJsonExports: true,
    esModuleInterop: true,
    isolatedModules: true,
    declaration: true,
    removeComments: true,
    emitDecoratorMetadata: true,
    experimentalDecorators: true,
    allowSyntheticDefaultImports: true,
    target: "ES2023",
    types: ["node"],
    sourceMap: true,
    outDir: "./dist",
    rootDir: ".",
    incremental: true,
    skipLibCheck: true,
    strict: true,
    strictPropertyInitialization: false,
  },
};

/** The tsconfig.json of `nest new` from @nestjs/schematics 11.0.0 to 11.0.5 (January–July 2025): module commonjs, so node10 resolution. */
const NEST_11_0_TSCONFIG = {
  compilerOptions: {
    module: "commonjs",
    declaration: true,
    removeComments: true,
    emitDecoratorMetadata: true,
    experimentalDecorators: true,
    allowSyntheticDefaultImports: true,
    target: "ES2021",
    sourceMap: true,
    outDir: "./dist",
    baseUrl: "./",
    incremental: true,
    skipLibCheck: true,
    strictNullChecks: true,
    forceConsistentCasingInFileNames: true,
    noImplicitAny: true,
    strictBindCallApply: true,
    noFallthroughCasesInSwitch: true,
  },
};

describe.each([
  // nest new writes typescript ^6.0.2 and @types/node ^24; @types/node 20 matches the Node we run.
  { name: "nest new today (module nodenext, TypeScript 6)", tsconfig: NEST_TSCONFIG, typescript: "typescript@^6.0.2", main: "dist/src/main.js" },
  { name: "nest new 11.0.0-11.0.5 (module commonjs, TypeScript 5.9)", tsconfig: NEST_11_0_TSCONFIG, typescript: "typescript", main: "dist/main.js" },
])("a TypeScript app compiled to CommonJS: $name", ({ tsconfig, typescript, main }) => {
  let app: UserApp;
  beforeAll(async () => {
    app = await createApp({
      packages: ["core", "adapter-redis", "orm", "client"],
      registry: [typescript, "@types/node"],
      packageJson: { name: "nest-style-app" },
      files: { "tsconfig.json": JSON.stringify(tsconfig, null, 2), "src/report.job.ts": REPORT_JOB, "src/main.ts": MAIN, "src/subpaths.ts": SUBPATHS },
    });
  }, INSTALL_MS);

  it("compiles with decorators and every package subpath's types, require()s @errand/core and its subpaths, and runs the decorated job", async () => {
    const compiled = await run(app, "tsc", ["-p", "tsconfig.json"]);
    expect(compiled.stdout + compiled.stderr).toBe("");
    expect(compiled.code).toBe(0);
    const emitted = readFileSync(join(app.dir, main), "utf8");
    expect(emitted).toContain('require("@errand/core")');
    expect(emitted).toContain('require("@errand/core/testing")');

    const env = { REDIS_URL: redisUrl(), APP_PREFIX: prefixes[prefixes.push(redisPrefix("errand-cjs-ts")) - 1]! };
    const ran = await run(app, "node", [main], { env });
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout)).toEqual({ queue: "reports", result: { month: "2026-11", executions: 2 } });
  });
});
