// `errand init` in a new JavaScript CommonJS app under os.tmpdir() (no "type" in its
// package.json), installing Errand's packages from npm pack's tarballs (`--from`): the
// generated tests pass under `node --test`, and the example job, a CommonJS module, runs
// under `errand work` on PostgreSQL.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { CLI } from "./support/errand-process.js";
import { INSTALL_MS, NPM_ENV, ok, runExampleJob, tarballDir } from "./support/init-apps.js";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";
import { createApp, run, userAppHooks } from "./support/user-app.js";

userAppHooks();
const schemas: string[] = [];
afterAll(() => dropSchemas(postgresUrl(), schemas));

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
    expect(tests.stdout).toMatch(/# tests 6\n# suites 3\n# pass 6\n# fail 0/);

    const schema = schemaName("errand_init");
    schemas.push(schema);
    const config = join(app.dir, "errand.config.mjs");
    writeFileSync(config, readFileSync(config, "utf8").replace("url: process.env.DATABASE_URL }", "url: process.env.DATABASE_URL, schema: process.env.APP_SCHEMA }"));
    const env = { NODE_ENV: "production", DATABASE_URL: postgresUrl(), APP_SCHEMA: schema };
    const doctor = await run(app, "errand", ["doctor"], { env });
    expect(doctor.stdout).toMatch(/✘ default adapter postgres: .*migrations? .*pending/);
    expect(doctor.code).toBe(1);
    await ok(app, "errand", ["migrate"], env);
    const { status } = await runExampleJob(app, env);
    expect(status).toMatchObject({ job: "HelloJob", state: "succeeded", result: "Hello, Ada!" });
    const healthy = await ok(app, "errand", ["doctor"], env);
    expect(healthy.stdout).not.toContain("✘");
  });
});
