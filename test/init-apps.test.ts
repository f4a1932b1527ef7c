// `npm create errand` / `errand init` in new apps under os.tmpdir(), installing Errand's
// packages from the tarballs `npm pack` makes of them (`--from`), as a user's app gets them
// from the registry: the generated tests pass under the runner init detected, generated
// code compiles under strict TypeScript, and the example job runs under `errand work`.
// The no-install cases (refusals, --force, the prompt): test/init-cli.test.ts.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { CLI, ROOT } from "./support/errand-process.js";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { CACHE, createApp, packWorkspace, run, start, userAppHooks, type RunResult, type UserApp, type WorkspacePackage } from "./support/user-app.js";

userAppHooks();
const prefixes: string[] = [];
const schemas: string[] = [];
afterAll(async () => {
  await dropPrefixes(redisUrl(), prefixes);
  await dropSchemas(postgresUrl(), schemas);
});

/** A cold npm install of vitest + typescript, then init's own install, on a loaded 2-core machine. */
const INSTALL_MS = 300_000;
/** npm answers from its cache when it can (the monorepo's install filled it with these versions). */
const NPM_ENV = { npm_config_prefer_offline: "true" };

/** A directory holding `packages`' tarballs under npm pack's names, for `--from`. */
async function tarballDir(packages: WorkspacePackage[]): Promise<string> {
  const packed = await packWorkspace(packages);
  const dir = join(CACHE, "from", `${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, tarball] of Object.entries(packed)) {
    const { name: packageName, version } = JSON.parse(readFileSync(join(ROOT, "packages", name, "package.json"), "utf8")) as { name: string; version: string };
    symlinkSync(tarball, join(dir, `${packageName.replace(/^@/, "").replace("/", "-")}-${version}.tgz`));
  }
  return dir;
}

/** Runs a command and fails with its output unless it exits 0. */
async function ok(app: UserApp, cmd: string, args: string[], env: Record<string, string> = {}, timeout?: number): Promise<RunResult> {
  const result = await run(app, cmd, args, { env, ...(timeout && { timeout }) });
  if (result.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  return result;
}

/** Enqueues HelloJob("Ada") with the installed CLI while `errand work` runs, and waits for its result. */
async function runExampleJob(app: UserApp, env: Record<string, string>): Promise<{ status: Record<string, unknown>; ms: number }> {
  const started = performance.now();
  const worker = start(app, "errand", ["work", "--concurrency", "2"], { env });
  try {
    await worker.line(/worker .* started: adapter/, 60_000);
    const enqueued = await ok(app, "errand", ["enqueue", "HelloJob", '["Ada"]'], env);
    const jobId = /^([0-9a-f-]{36}) HelloJob/.exec(enqueued.stdout)?.[1];
    expect(jobId, enqueued.stdout).toBeDefined();
    await worker.line(new RegExp(`HelloJob ${jobId} completed`), 30_000);
    const status = JSON.parse((await ok(app, "errand", ["status", jobId!, "--json"], env)).stdout) as Record<string, unknown>;
    return { status, ms: performance.now() - started };
  } finally {
    const stopped = await worker.stop();
    expect(stopped.code, stopped.stderr).toBe(0);
  }
}

describe("a TypeScript ES-module app with vitest (npm create errand)", () => {
  it("is set up by one command; its tests pass, generated code compiles, and the example job runs under errand work on Redis", { timeout: INSTALL_MS * 2 }, async () => {
    const app = await createApp({
      packages: [],
      registry: ["typescript", "vitest", "@types/node"],
      packageJson: { name: "shop", type: "module" },
      files: {
        "tsconfig.json": JSON.stringify({ compilerOptions: { strict: true, module: "nodenext", target: "es2022", noEmit: true, noImplicitOverride: true, skipLibCheck: true, types: ["node"] } }),
      },
      fresh: true,
    });
    const from = await tarballDir(["core", "adapter-async", "adapter-redis"]);
    // `npm create errand` runs create-errand's bin: `errand init` with the flags given.
    const init = await ok(app, process.execPath, [join(ROOT, "packages/create-errand/dist/index.js"), "--backend", "redis", "--from", from], NPM_ENV, INSTALL_MS);
    expect(init.stdout).toContain("Errand for shop (TypeScript, ES modules, tests with vitest, npm); production backend: redis");
    expect(init.stdout).toMatch(/create +errand\.config\.ts\n +create +jobs\/hello-job\.ts\n +create +jobs\/hello-job\.test\.ts\n +create +Procfile\n +update +package\.json/);
    expect(init.stdout).toMatch(/install +npm install .*errand-core-0\.1\.0\.tgz .*errand-adapter-redis-0\.1\.0\.tgz tsx/);
    const pkg = JSON.parse(readFileSync(join(app.dir, "package.json"), "utf8")) as { dependencies: Record<string, string>; scripts: Record<string, string> };
    expect(Object.keys(pkg.dependencies).sort()).toEqual(["@errand/adapter-async", "@errand/adapter-redis", "@errand/core", "tsx"]);
    expect(pkg.scripts).toEqual({ "errand:work": "errand work", "errand:doctor": "errand doctor", test: "vitest run" });

    expect((await ok(app, "npm", ["test"])).stdout).toMatch(/Tests +2 passed/);
    await ok(app, "errand", ["generate", "job", "GuestsCleanup", "--queue", "low"]);
    await ok(app, "errand", ["generate", "mailer", "User", "welcome", "goodbye"]);
    expect((await ok(app, "npx", ["vitest", "run"])).stdout).toMatch(/Test Files +3 passed[\s\S]*Tests +8 passed/);
    await ok(app, "npx", ["tsc", "-p", "."]);

    const prefix = redisPrefix("errand-init");
    prefixes.push(prefix);
    const config = join(app.dir, "errand.config.ts");
    writeFileSync(config, readFileSync(config, "utf8").replace("url: process.env.REDIS_URL }", "url: process.env.REDIS_URL, prefix: process.env.APP_PREFIX }"));
    const { status } = await runExampleJob(app, { NODE_ENV: "production", REDIS_URL: redisUrl(), APP_PREFIX: prefix });
    expect(status).toMatchObject({ job: "HelloJob", state: "succeeded", result: "Hello, Ada!", progress: 0.5, message: "composing the greeting" });
  });
});

describe("a JavaScript CommonJS app with node:test (errand init)", () => {
  it("is set up by one command; its tests pass under node --test, and the example job runs under errand work on PostgreSQL", { timeout: INSTALL_MS * 2 }, async () => {
    const app = await createApp({ packages: [], packageJson: { name: "legacy-app", scripts: { test: 'echo "Error: no test specified" && exit 1' } }, fresh: true });
    const from = await tarballDir(["core", "adapter-async", "adapter-postgres"]);
    const init = await ok(app, process.execPath, [CLI, "init", "--from", from], NPM_ENV, INSTALL_MS);
    expect(init.stdout).toContain("Errand for legacy-app (JavaScript, CommonJS, tests with node:test, npm); production backend: postgres");
    expect(init.stdout).toContain('at the app\'s start: const config = require("./errand.config.mjs").default; configure(config);');
    expect(readFileSync(join(app.dir, "jobs/hello-job.js"), "utf8")).toContain("module.exports = { HelloJob };");

    await ok(app, "errand", ["generate", "job", "GuestsCleanup", "--queue", "low"]);
    await ok(app, "errand", ["generate", "mailer", "User", "welcome"]);
    const tests = await ok(app, "npm", ["test"]);
    expect(tests.stdout).toMatch(/# tests 7\n# suites 3\n# pass 7\n# fail 0/);

    const schema = schemaName("errand_init");
    schemas.push(schema);
    const config = join(app.dir, "errand.config.mjs");
    writeFileSync(config, readFileSync(config, "utf8").replace("url: process.env.DATABASE_URL }", "url: process.env.DATABASE_URL, schema: process.env.APP_SCHEMA }"));
    const env = { NODE_ENV: "production", DATABASE_URL: postgresUrl(), APP_SCHEMA: schema };
    await ok(app, "errand", ["migrate"], env);
    const { status } = await runExampleJob(app, env);
    expect(status).toMatchObject({ job: "HelloJob", state: "succeeded", result: "Hello, Ada!" });
  });
});
