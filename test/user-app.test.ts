// The user-app harness (support/user-app.ts) itself: apps resolve the packed packages from
// their own node_modules, run their own registry tools, share one installed tree per
// dependency set, and their commands die with their process group at a timeout.
import { statSync } from "node:fs";
import { join } from "node:path";

import { waitFor } from "@errand/core/testing";
import { beforeAll, describe, expect, it } from "vitest";

import { createApp, run, userAppHooks, type AppSpec, type UserApp } from "./support/user-app.js";

userAppHooks();

/** Packing and a cold install of core with typescript, tsx, vitest and @types/node: ~25 s on a loaded 2-core machine. */
const INSTALL_MS = 300_000;

const SPEC: AppSpec = {
  packages: ["core"],
  registry: ["typescript", "tsx", "vitest", "@types/node"],
  packageJson: { name: "esm-app", type: "module" },
  files: {
    "where.ts": `console.log(JSON.stringify({ core: import.meta.resolve("@errand/core"), vitest: import.meta.resolve("vitest") }));\n`,
    "double.test.ts": `
import { configure, Job } from "@errand/core";
import { expect, it } from "vitest";

class DoubleJob extends Job<[n: number], number> {
  perform(n: number) {
    return n * 2;
  }
}

it("runs a job inline", async () => {
  const runtime = configure({ adapter: "inline" });
  expect(await DoubleJob.performNow(21)).toBe(42);
  await runtime.close();
});
`,
  },
};

describe("a user's app", () => {
  let app: UserApp;
  beforeAll(async () => {
    app = await createApp(SPEC);
  }, INSTALL_MS);

  it("lies outside the monorepo and installs the packages from their tarballs", () => {
    expect(app.dir.startsWith(process.cwd())).toBe(false);
    expect(app.tarballs.core).toMatch(/core-[0-9a-f]{16}\.tgz$/);
    expect((app.packageJson.dependencies as Record<string, string>)["@errand/core"]).toMatch(/^file:.*core-[0-9a-f]{16}\.tgz$/);
  });

  it("resolves @errand/core and its tools from its own node_modules, with tsx", async () => {
    const result = await run(app, "tsx", ["where.ts"]);
    expect(result.stderr).toBe("");
    const where = JSON.parse(result.stdout) as { core: string; vitest: string };
    expect(where.core).toBe(`file://${join(app.dir, "node_modules/@errand/core/dist/index.js")}`);
    expect(where.vitest.startsWith(`file://${join(app.dir, "node_modules/vitest/")}`)).toBe(true);
  });

  it("runs its own vitest, not the one running this test", async () => {
    const result = await run(app, "vitest", ["run", "--reporter=dot"], { timeout: 60_000 });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/1 passed/);
  });

  it("shares one installed tree with apps of the same dependencies; fresh: true installs its own", async () => {
    const twin = await createApp(SPEC);
    const fresh = await createApp({ ...SPEC, registry: ["typescript"], fresh: true });
    const inode = (of: UserApp) => statSync(join(of.dir, "node_modules/@errand/core/package.json")).ino;
    expect(inode(twin)).toBe(inode(app));
    expect(inode(fresh)).not.toBe(inode(app));
    const compiled = await run(fresh, "tsc", ["--version"]);
    expect(compiled.stdout).toMatch(/^Version \d/);
  }, INSTALL_MS);

  it("kills a command's whole process group at its timeout", async () => {
    const result = await run(app, "sh", ["-c", `node -e "setInterval(() => {}, 1000)" & echo $!; wait`], { timeout: 1_000 });
    expect(result.timedOut).toBe(true);
    const grandchild = Number(result.stdout.trim());
    expect(grandchild).toBeGreaterThan(0);
    await waitFor(() => {
      try {
        process.kill(grandchild, 0);
        return false;
      } catch {
        return true;
      }
    }, { message: `pid ${grandchild} to be gone` });
  });
});
