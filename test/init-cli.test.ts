// `errand init` and `errand generate` as a user runs them, in apps made under os.tmpdir()
// (outside the monorepo) without installing anything (`--no-install`): what is refused,
// what --force does, the prompt at a terminal. The installed apps, their generated tests
// and a worker running the example job: test/init-{ts,cjs,jest}-app.test.ts.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { CLI } from "./support/errand-process.js";
import { runNode } from "./support/run-node.js";

let app: string;
beforeEach(() => {
  app = mkdtempSync(join(tmpdir(), "errand-init-"));
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "shop", type: "module", scripts: { test: "mocha" } }, null, 2));
});
afterEach(() => rmSync(app, { recursive: true, force: true }));

const errand = (...args: string[]) => runNode([CLI, ...args], { cwd: app, deadlineMs: 20_000 });
const read = (path: string) => readFileSync(join(app, path), "utf8");

describe("errand init", () => {
  it("writes the config, the example job and its test, the Procfile line and scripts, and lists them", async () => {
    const result = await errand("init", "--no-install", "--backend", "redis");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Errand for shop (JavaScript, ES modules, tests with node:test, npm); production backend: redis");
    for (const file of ["errand.config.mjs", "jobs/hello-job.js", "jobs/hello-job.test.js", "Procfile"]) expect(result.stdout).toMatch(new RegExp(`create +${file.replace(".", "\\.")}`));
    expect(result.stdout).toMatch(/update +package\.json/);
    expect(result.stdout).toContain("scripts   errand:work, errand:doctor added to package.json");
    expect(result.stdout).toContain("scripts   test already in package.json, kept as they are");
    expect(result.stdout).toContain("Install: @errand/core@^0.1.0 @errand/adapter-async@^0.1.0 @errand/adapter-redis@^0.1.0 (skipped: --no-install)");
    expect(read("errand.config.mjs")).toContain('production: { use: "redis", url: process.env.REDIS_URL }');
    expect(read("Procfile")).toBe("worker: node_modules/.bin/errand work\n");
    expect(JSON.parse(read("package.json")).scripts).toEqual({ test: "mocha", "errand:work": "errand work", "errand:doctor": "errand doctor" });
  });

  it("refuses an app that already has a config, writing nothing; --force writes it again", async () => {
    writeFileSync(join(app, "errand.config.mjs"), "export default { app: 'mine' };\n");
    const refused = await errand("init", "--no-install");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe("errand: errand.config.mjs already exists: Errand is set up here (errand generate adds jobs); nothing was written (use --force to write it again)\n");
    expect(existsSync(join(app, "jobs"))).toBe(false);
    expect(read("errand.config.mjs")).toBe("export default { app: 'mine' };\n");

    const forced = await errand("init", "--no-install", "--force", "--backend", "sqs");
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/overwrite +errand\.config\.mjs/);
    expect(read("errand.config.mjs")).toContain('import { RedisStatusStore } from "@errand/adapter-redis";');
    // A config of another name would be found beside the one init writes: removed first.
    writeFileSync(join(app, "tsconfig.json"), "{}");
    const otherName = await errand("init", "--no-install", "--force");
    expect(otherName.stderr).toBe("errand: errand.config.mjs is there and init would write errand.config.ts: remove errand.config.mjs first (both would be found)\n");
  });

  it("refuses a file that exists without --force, before writing anything", async () => {
    writeFileSync(join(app, "Procfile"), "web: node server.js\n");
    await errand("generate", "job", "Hello");
    const refused = await errand("init", "--no-install");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("jobs/hello-job.js, jobs/hello-job.test.js already exist; nothing was written (use --force to overwrite)");
    expect(existsSync(join(app, "errand.config.mjs"))).toBe(false);
    expect(read("Procfile")).toBe("web: node server.js\n");
  });

  it("says what is wrong with a flag, before writing anything", async () => {
    const result = await errand("init", "--backend", "mongo");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/option '-b, --backend <name>' argument 'mongo' is invalid. Allowed choices are postgres, redis, sqs/);
    const from = await errand("init", "--from", join(app, "no-tarballs"));
    expect(from.stderr).toBe(`errand: --from ${join(app, "no-tarballs")}: no such directory\n`);
    expect((await errand("init", "--no-install", "--dir", "../elsewhere")).stderr).toMatch(/--dir \.\.\/elsewhere: give a folder inside the app/);
    expect(existsSync(join(app, "errand.config.mjs"))).toBe(false);
  });

  it("asks for the backend at a terminal, again after an answer it cannot take", () => {
    // util-linux `script` gives the command a pseudo-terminal; the answers arrive on it.
    const result = spawnSync("script", ["-qec", `${process.execPath} ${CLI} init --no-install`, "/dev/null"], { cwd: app, input: "mongo\n2\n", encoding: "utf8", timeout: 20_000 });
    if (result.error) throw new Error(`could not run script(1) for a terminal: ${result.error.message} (apt-get install bsdutils)`);
    expect(result.stdout).toContain("Which backend runs your jobs in production?");
    expect(result.stdout).toContain("Please answer 1-3 or a name.");
    expect(read("errand.config.mjs")).toContain('use: "redis"');
  });
});

describe("errand generate", () => {
  it("writes a job and a mailer with their tests, and refuses clashes and bad names", async () => {
    const job = await errand("generate", "job", "GuestsCleanup", "--queue", "low");
    expect(job.stdout).toBe(
      "GuestsCleanupJob (JavaScript, ES modules, tests with node:test, npm):\n" +
        "  create    jobs/guests-cleanup-job.js\n  create    jobs/guests-cleanup-job.test.js\n" +
        "Run its test: node --test jobs/guests-cleanup-job.test.js\n",
    );
    expect(read("jobs/guests-cleanup-job.js")).toContain('export class GuestsCleanupJob extends Job {\n  static queue = "low";');
    const again = await errand("g", "job", "guests_cleanup");
    expect([again.code, again.stderr]).toEqual([1, "errand: jobs/guests-cleanup-job.js, jobs/guests-cleanup-job.test.js already exist; nothing was written (use --force to overwrite)\n"]);
    const sameClass = await errand("g", "job", "GuestsCleanup", "--dir", "jobs/admin");
    expect(sameClass.stderr).toBe("errand: class GuestsCleanupJob is already declared in jobs/guests-cleanup-job.js; a job or mailer name must be unique (choose another name)\n");
    expect((await errand("g", "job", "guests cleanup")).stderr).toMatch(/job name "guests cleanup" is not valid/);
    expect((await errand("g", "job", "Report", "-q", "reports.daily")).stderr).toMatch(/queue name "reports.daily" is not valid/);

    const mailer = await errand("generate", "mailer", "User", "welcome", "password_reset");
    expect(mailer.code).toBe(0);
    expect(read("mailers/user-mailer.js")).toContain("    passwordReset(to) {");
    expect(read("mailers/user-mailer.test.js")).toContain('await assertMailEnqueued({ mailer: UserMailer, method: "passwordReset", args: ["ada@example.com"], queue: "mailers", count: 1 });');
    expect((await errand("g", "mailer", "Admin")).stderr).toMatch(/missing required argument 'methods'/);
  });
});
