// `npm create errand` in a new TypeScript ES-module app under os.tmpdir(), installing
// Errand's packages from npm pack's tarballs (`--from`) as an app gets them from the
// registry: the generated tests pass under vitest, generated code compiles under strict
// TypeScript, and the example job runs under `errand work` on Redis. The no-install cases
// (refusals, --force, the prompt): test/init-cli.test.ts.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { ROOT } from "./support/errand-process.js";
import { INSTALL_MS, NPM_ENV, ok, runExampleJob, tarballDir } from "./support/init-apps.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { createApp, userAppHooks } from "./support/user-app.js";

userAppHooks();
const prefixes: string[] = [];
afterAll(() => dropPrefixes(redisUrl(), prefixes));

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
    expect((await ok(app, "npx", ["vitest", "run"])).stdout).toMatch(/Test Files +3 passed[\s\S]*Tests +7 passed/);
    await ok(app, "npx", ["tsc", "-p", "."]);

    const prefix = redisPrefix("errand-init");
    prefixes.push(prefix);
    const config = join(app.dir, "errand.config.ts");
    writeFileSync(config, readFileSync(config, "utf8").replace("url: process.env.REDIS_URL }", "url: process.env.REDIS_URL, prefix: process.env.APP_PREFIX }"));
    const env = { NODE_ENV: "production", REDIS_URL: redisUrl(), APP_PREFIX: prefix };
    const { status } = await runExampleJob(app, env);
    expect(status).toMatchObject({ job: "HelloJob", state: "succeeded", result: "Hello, Ada!", progress: { fraction: 0.5, message: "composing the greeting" } });
    const doctor = await ok(app, "errand", ["doctor"], env);
    expect(doctor.stdout).toContain("✔ job classes: 2 registered (GuestsCleanupJob, HelloJob); 1 mailer (UserMailer)");
    expect(doctor.stdout).not.toContain("✘");
  });
});

