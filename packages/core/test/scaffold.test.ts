// The pieces `errand init` and `errand generate` are made of: names, project detection,
// file plans that never overwrite, merged Procfile and package.json, install specs.
// The whole commands run in real apps in test/init-*.test.ts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { folderFor, globFolders, refuseDuplicateClass } from "../src/cli/scaffold/locations.js";
import { configLoadLine, jobGlobs, packageJsonWithScripts, procfile } from "../src/cli/scaffold/init-files.js";
import { installCommand, installSpecs } from "../src/cli/scaffold/install.js";
import { classNameOf, mailMethodsOf, queueNameOf } from "../src/cli/scaffold/names.js";
import { detectProject, readJsonc } from "../src/cli/scaffold/project.js";
import { syntaxOf } from "../src/cli/scaffold/syntax.js";
import { writeFiles } from "../src/cli/scaffold/writer.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "errand-scaffold-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const write = (path: string, content: string) => {
  mkdirSync(join(root, path, ".."), { recursive: true });
  writeFileSync(join(root, path), content);
};

describe("names", () => {
  it("derives class and file names the way Rails' generators do", () => {
    expect(classNameOf("GuestsCleanup", "Job", "job")).toEqual({ className: "GuestsCleanupJob", fileBase: "guests-cleanup-job" });
    expect(classNameOf("guests_cleanup", "Job", "job")).toEqual({ className: "GuestsCleanupJob", fileBase: "guests-cleanup-job" });
    expect(classNameOf("guests-cleanup-job", "Job", "job")).toEqual({ className: "GuestsCleanupJob", fileBase: "guests-cleanup-job" });
    expect(classNameOf("HTMLReport", "Job", "job")).toEqual({ className: "HtmlReportJob", fileBase: "html-report-job" });
    expect(classNameOf("User", "Mailer", "mailer")).toEqual({ className: "UserMailer", fileBase: "user-mailer" });
  });

  it("refuses names that cannot be a class or a file, saying why", () => {
    expect(() => classNameOf("9lives", "Job", "job")).toThrow(/job name "9lives" is not valid/);
    expect(() => classNameOf("guests cleanup", "Job", "job")).toThrow(/not valid/);
    expect(() => classNameOf("../evil", "Job", "job")).toThrow(/not valid/);
    expect(() => classNameOf("Job", "Job", "job")).toThrow(/only the suffix/);
    expect(() => classNameOf("Promise", "Job", "job")).not.toThrow();
  });

  it("checks mail methods and queue names", () => {
    expect(mailMethodsOf(["welcome", "password_reset"])).toEqual(["welcome", "passwordReset"]);
    expect(() => mailMethodsOf([])).toThrow(/at least one mail method/);
    expect(() => mailMethodsOf(["defaults"])).toThrow(/shadow a static/);
    expect(() => mailMethodsOf(["welcome", "welcome"])).toThrow(/given twice/);
    expect(queueNameOf("low")).toBe("low");
    expect(() => queueNameOf("low priority")).toThrow(/queue name "low priority" is not valid/);
    expect(() => queueNameOf("a.b")).toThrow(/not valid/);
  });
});

describe("detectProject", () => {
  it("finds TypeScript ES modules with vitest and pnpm", () => {
    write("package.json", JSON.stringify({ name: "@acme/shop", type: "module", devDependencies: { vitest: "4", typescript: "5" } }));
    write("tsconfig.json", '{ // comment\n "compilerOptions": { "module": "NodeNext", "outDir": "dist/*", }, }');
    write("pnpm-lock.yaml", "");
    const project = detectProject(root);
    expect([project.name, project.language, project.module, project.testRunner, project.packageManager]).toEqual(["@acme/shop", "typescript", "esm", "vitest", "pnpm"]);
    expect(readJsonc(join(root, "tsconfig.json"))).toEqual({ compilerOptions: { module: "NodeNext", outDir: "dist/*" } });
  });

  it("finds TypeScript compiled to CommonJS (NestJS's default); jest there cannot load ES modules, so tests are for node:test", () => {
    write("package.json", JSON.stringify({ name: "api", devDependencies: { jest: "29", "ts-jest": "29" } }));
    write("tsconfig.json", JSON.stringify({ compilerOptions: { module: "commonjs", experimentalDecorators: true } }));
    const project = detectProject(root, { packageManager: "npm" });
    expect([project.language, project.module, project.testRunner]).toEqual(["typescript", "commonjs", "node"]);
    expect(project.notes).toEqual([expect.stringMatching(/^jest is here, but its require cannot load ES modules .* before Node 24\.9/)]);
    expect(detectProject(root, { testRunner: "jest" })).toMatchObject({ testRunner: "jest", notes: [] });
    expect(syntaxOf(project).sibling("x-job")).toBe("./x-job");
  });

  it("finds JavaScript CommonJS with node:test, and lets flags win", () => {
    write("package.json", JSON.stringify({ name: "legacy" }));
    write("errand.config.mjs", "export default {}");
    const project = detectProject(root, { packageManager: "npm" });
    expect([project.language, project.module, project.testRunner, project.configFile]).toEqual(["javascript", "commonjs", "node", "errand.config.mjs"]);
    expect(detectProject(root, { module: "esm", testRunner: "vitest", packageManager: "npm" })).toMatchObject({ module: "esm", testRunner: "vitest" });
    expect(configLoadLine("errand.config.mjs", syntaxOf(project))).toBe('const config = require("./errand.config.mjs").default; configure(config);');
  });

  it("says how to start when there is no package.json", () => {
    expect(() => detectProject(root)).toThrow(/no package.json in .*npm init -y/);
  });
});

describe("writeFiles", () => {
  it("refuses to overwrite without force and writes nothing then; reports each action", () => {
    write("jobs/a.ts", "old");
    const plan = [
      { path: "jobs/b.ts", content: "b" },
      { path: "jobs/a.ts", content: "new" },
    ];
    expect(() => writeFiles(root, plan)).toThrow("jobs/a.ts already exists; nothing was written (use --force to overwrite)");
    expect(() => readFileSync(join(root, "jobs/b.ts"))).toThrow(/ENOENT/);
    expect(writeFiles(root, plan, { force: true })).toEqual([
      { path: "jobs/b.ts", action: "create" },
      { path: "jobs/a.ts", action: "overwrite" },
    ]);
    expect(writeFiles(root, plan)).toEqual([
      { path: "jobs/b.ts", action: "identical" },
      { path: "jobs/a.ts", action: "identical" },
    ]);
  });

  it("merges the Procfile and package.json scripts without losing what was there", () => {
    write("Procfile", "web: node server.js\nworker: node old-worker.js");
    expect(procfile(root)?.content).toBe("web: node server.js\nworker: node old-worker.js\nerrand_worker: node_modules/.bin/errand work\n");
    write("Procfile", "web: node server.js\nworker: npx errand work -q default\n");
    expect(procfile(root)).toBeUndefined();
    write("package.json", JSON.stringify({ name: "x", scripts: { test: "mocha", "errand:work": "custom" } }, null, 4));
    const { file, added, kept } = packageJsonWithScripts(root, { "errand:work": "errand work", "errand:doctor": "errand doctor", test: "vitest run" });
    expect([added, kept]).toEqual([["errand:doctor"], ["errand:work", "test"]]);
    expect(JSON.parse(file.content)).toEqual({ name: "x", scripts: { test: "mocha", "errand:work": "custom", "errand:doctor": "errand doctor" } });
    expect(file.content).toMatch(/^ {4}"name"/m);
  });
});

describe("locations", () => {
  it("reads the job and mailer folders from the config's globs, without importing it", () => {
    write("package.json", "{}");
    write("errand.config.ts", 'export default defineConfig({ jobs: ["./src/jobs/**/*.ts", "src/mail/mailers/**/*.ts", "!**/*.test.ts"] });');
    const project = detectProject(root);
    expect(globFolders(project)).toEqual(["src/jobs", "src/mail/mailers"]);
    expect(folderFor("job", project)).toBe("src/jobs");
    expect(folderFor("mailer", project)).toBe("src/mail/mailers");
    expect(folderFor("job", project, "lib/work/")).toBe("lib/work");
    expect(() => folderFor("job", project, "../outside")).toThrow(/inside the app/);
    expect(jobGlobs("jobs", "mailers", syntaxOf({ language: "javascript", module: "esm" }))).toEqual(["jobs/**/*.js", "mailers/**/*.js", "!**/*.test.js"]);
  });

  it("refuses a class name another file already declares", () => {
    write("jobs/nested/old.ts", "export class GuestsCleanupJob extends Job {}");
    write("package.json", "{}");
    write("errand.config.ts", 'export default { jobs: ["jobs/**/*.ts"] };');
    const project = detectProject(root);
    expect(() => refuseDuplicateClass(project, "jobs", "GuestsCleanupJob", [])).toThrow("class GuestsCleanupJob is already declared in jobs/nested/old.ts");
    expect(() => refuseDuplicateClass(project, "lib/other", "GuestsCleanupJob", [])).toThrow(/already declared in jobs\/nested\/old.ts/);
    expect(() => refuseDuplicateClass(project, "jobs", "GuestsCleanup2Job", [])).not.toThrow();
  });
});

describe("install", () => {
  it("pins Errand's packages to the CLI's version, or takes npm pack's tarballs from --from", () => {
    expect(installSpecs(["@errand/core", "tsx"], "0.3.1")).toEqual(["@errand/core@^0.3.1", "tsx"]);
    write("packs/errand-core-0.3.1.tgz", "");
    write("packs/errand-adapter-redis-0.3.1.tgz", "");
    expect(installSpecs(["@errand/adapter-redis", "@errand/core"], "0.3.1", join(root, "packs"))).toEqual([
      join(root, "packs/errand-adapter-redis-0.3.1.tgz"),
      join(root, "packs/errand-core-0.3.1.tgz"),
    ]);
    expect(() => installSpecs(["@errand/adapter-sqs"], "0.3.1", join(root, "packs"))).toThrow(/no tarball of @errand\/adapter-sqs there/);
    expect(() => installSpecs(["@errand/core"], "0.3.1", join(root, "nowhere"))).toThrow(/no such directory/);
    expect(installCommand("pnpm", ["a"], true)).toEqual(["pnpm", "add", "--save-dev", "a"]);
    expect(installCommand("yarn", ["a"], false)).toEqual(["yarn", "add", "a"]);
  });
});
