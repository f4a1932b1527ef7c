/**
 * The files `errand init` writes besides the example job: the config (`errand.config.ts`,
 * or `.mjs` for JavaScript; `.mts` for TypeScript compiled to CommonJS, so the config is an
 * ES module whatever the app's type), the `Procfile`'s worker line and package.json's
 * scripts. The Procfile and package.json are merged: lines and scripts already there stay.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

import type { PlannedFile } from "./writer.js";
import type { Project } from "./project.js";
import type { Syntax } from "./syntax.js";

/** The production backends `errand init` can set up. */
export const BACKENDS = ["postgres", "redis", "sqs"] as const;
/** One of {@link BACKENDS}. */
export type Backend = (typeof BACKENDS)[number];

/** The npm packages an app needs for `backend`, besides `@errand/core` and the async adapter for development. */
export function backendPackages(backend: Backend): string[] {
  // SQS keeps no job state: its statuses live in a store every process shares (Redis here).
  return backend === "sqs" ? ["@errand/adapter-sqs", "@errand/adapter-redis"] : [`@errand/adapter-${backend}`];
}

/** The config file's name for the app. */
export function configFileName(project: Pick<Project, "language" | "module">): string {
  if (project.language === "javascript") return "errand.config.mjs";
  return project.module === "commonjs" ? "errand.config.mts" : "errand.config.ts";
}

/** The `jobs` globs of the generated config: jobs and mailers, never their tests. */
export function jobGlobs(jobsDir: string, mailersDir: string, syntax: Syntax): string[] {
  return [`${jobsDir}/**/*${syntax.ext}`, `${mailersDir}/**/*${syntax.ext}`, `!**/*.test${syntax.ext}`];
}

const PRODUCTION: Record<Backend, string[]> = {
  postgres: ['production: { use: "postgres", url: process.env.DATABASE_URL },'],
  redis: ['production: { use: "redis", url: process.env.REDIS_URL },'],
  sqs: [
    "// SQS keeps no job state: statuses live in a store every process shares. It is built",
    "// only in production, so development and tests open no Redis connection.",
    "...(environment === \"production\"",
    "  ? { production: { use: \"sqs\", region: process.env.AWS_REGION, status: new RedisStatusStore({ url: process.env.REDIS_URL }) } }",
    "  : {}),",
  ],
};

/**
 * How the app loads the config at its start, for `configFile` (`errand.config.ts` is
 * imported as `./errand.config.js`, as TypeScript spells it).
 */
export function configLoadLine(configFile: string, syntax: Syntax): string {
  const specifier = `./${configFile.replace(/\.(m?)ts$/, ".$1js")}`;
  if (syntax.exportKeyword === "") return `const config = require(${JSON.stringify(specifier)}).default; configure(config);`;
  return `import config from ${JSON.stringify(specifier)}; configure(config);`;
}

/** The config file's text (always an ES module: Errand's loader imports it). */
export function configSource(project: Pick<Project, "name">, backend: Backend, globs: readonly string[], loadLine: string): string {
  const production = PRODUCTION[backend].map((line) => `    ${line}`);
  return [
    'import { defineConfig } from "@errand/core";',
    ...(backend === "sqs" ? ['import { RedisStatusStore } from "@errand/adapter-redis";', "", 'const environment = process.env.ERRAND_ENV ?? process.env.NODE_ENV ?? "development";'] : []),
    "",
    "// Which backend each environment uses (ERRAND_ENV, else NODE_ENV, else development) and",
    "// where the jobs are. `errand work` loads this file; the app passes it to configure() at",
    `// start: ${loadLine}`,
    "export default defineConfig({",
    `  app: ${JSON.stringify(project.name.replace(/^@[^/]+\//, ""))},`,
    "  adapter: {",
    '    development: "async", // in the app\'s own process, nothing to run (pending jobs are lost on exit)',
    '    test: "test", // records jobs for @errand/core/testing',
    ...production,
    "  },",
    `  jobs: [${globs.map((glob) => JSON.stringify(glob)).join(", ")}],`,
    "});",
    "",
  ].join("\n");
}

/** The Procfile with Errand's worker line added (unless a line already runs `errand work`). */
export function procfile(root: string): PlannedFile | undefined {
  const path = join(root, "Procfile");
  const before = existsSync(path) ? readFileSync(path, "utf8") : "";
  if (/errand\s+work/.test(before)) return undefined;
  const name = /^worker:/m.test(before) ? "errand_worker" : "worker";
  const separator = before === "" || before.endsWith("\n") ? "" : "\n";
  // The bin itself, not `npx errand work` or `npm run`: neither passes SIGTERM on to the worker
  // (seen with npm 11: the worker went on after its wrapper exited), and a supervisor that
  // signals only the process it started would then never stop it gracefully.
  return { path: "Procfile", content: `${before}${separator}${name}: node_modules/.bin/errand work\n`, existing: "merge" };
}

/** Scripts init adds to package.json, by name. */
export function initScripts(testCommand: string | undefined): Record<string, string> {
  return {
    "errand:work": "errand work",
    "errand:doctor": "errand doctor",
    ...(testCommand ? { test: testCommand } : {}),
  };
}

/**
 * package.json with `scripts` added: a script of the same name already there is kept
 * (its name is returned in `kept`), so init never changes what the app runs.
 */
export function packageJsonWithScripts(root: string, scripts: Record<string, string>): { file: PlannedFile; added: string[]; kept: string[] } {
  const text = readFileSync(join(root, "package.json"), "utf8");
  const pkg = JSON.parse(text) as { scripts?: Record<string, string> };
  const current = { ...(pkg.scripts ?? {}) };
  const added: string[] = [];
  const kept: string[] = [];
  for (const [name, command] of Object.entries(scripts)) {
    if (current[name] === undefined || (name === "test" && /no test specified/.test(current[name]))) {
      current[name] = command;
      added.push(name);
    } else if (current[name] !== command) kept.push(name);
  }
  const indent = /^(\s+)"/m.exec(text)?.[1] ?? "  ";
  const content = `${JSON.stringify({ ...pkg, scripts: current }, null, indent)}\n`;
  return { file: { path: "package.json", content, existing: "merge" }, added, kept };
}
