// `errand init` and `errand generate` in a new ES-module app whose tests run under jest:
// the generated tests pass under jest, run the way jest runs ES modules (Node's VM
// modules). Jest in a CommonJS app cannot load Errand's ES modules before Node 24.9, so
// there init writes node:test tests and says why (packages/core/test/scaffold.test.ts).
import { describe, expect, it } from "vitest";

import { ok } from "./support/init-apps.js";
import { createApp, run, userAppHooks } from "./support/user-app.js";

userAppHooks();

describe("an ES-module app with jest", () => {
  it("gets jest tests that pass, and a test script that runs jest on ES modules", { timeout: 300_000 }, async () => {
    const app = await createApp({ packages: ["core", "adapter-async"], registry: ["jest@^30.0.0"], packageJson: { name: "jest-app", type: "module" } });
    const init = await ok(app, "errand", ["init", "--no-install", "--backend", "redis"]);
    expect(init.stdout).toContain("Errand for jest-app (JavaScript, ES modules, tests with jest, npm); production backend: redis");
    await ok(app, "errand", ["generate", "mailer", "User", "welcome"]);
    const tests = await run(app, "npm", ["test"], { timeout: 120_000 });
    expect(tests.stderr).toMatch(/Test Suites: 2 passed, 2 total\nTests: +4 passed, 4 total/);
    expect(tests.code).toBe(0);
  });
});
