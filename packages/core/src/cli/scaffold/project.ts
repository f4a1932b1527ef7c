/**
 * What `errand init` and `errand generate` find out about the app they write into: the
 * language (a `tsconfig.json` or a `typescript` dependency makes it TypeScript), the module
 * system (`"type": "module"`, and for TypeScript the tsconfig's `module`), the test runner
 * already there (vitest, jest, else Node's own `node:test`), the package manager (the
 * `packageManager` field, a lockfile, the one running us, else npm) and an Errand config
 * already written. Every guess can be overridden by a flag.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";

import { CONFIG_FILES } from "../../config/load.js";
import { CliUsageError } from "../context.js";

/** Source language of the app. */
export type Language = "typescript" | "javascript";
/** How the app's files are loaded: ES modules or CommonJS. */
export type ModuleKind = "esm" | "commonjs";
/** The test runner generated tests are written for; `node` is `node:test`. */
export type TestRunner = "vitest" | "jest" | "node";
/** The package manager that installs Errand's packages. */
export type PackageManager = "npm" | "pnpm" | "yarn" | "bun";

/** The app, as detected (and overridden by flags). */
export interface Project {
  /** The app's directory. */
  root: string;
  /** `name` of its package.json, else the directory's name: the config's `app`. */
  name: string;
  /** Its package.json, parsed. */
  packageJson: PackageJson;
  language: Language;
  module: ModuleKind;
  testRunner: TestRunner;
  packageManager: PackageManager;
  /** An Errand config already there (file name), if any. */
  configFile: string | undefined;
  /** What was decided against what was found, and why (printed by the commands). */
  notes: string[];
}

/** The parts of package.json read here. */
export interface PackageJson {
  name?: string;
  type?: string;
  packageManager?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** Flags that override what is detected. */
export interface ProjectOverrides {
  language?: Language;
  module?: ModuleKind;
  testRunner?: TestRunner;
  packageManager?: PackageManager;
}

/** Reads `root/package.json`. @throws CliUsageError when it is missing or not JSON. */
export function readPackageJson(root: string): PackageJson {
  const file = join(root, "package.json");
  if (!existsSync(file)) {
    throw new CliUsageError(`no package.json in ${root}: run errand in your app's directory (or \`npm init -y\` first for a new one)`);
  }
  try {
    const value = JSON.parse(readFileSync(file, "utf8")) as unknown;
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not an object");
    return value as PackageJson;
  } catch (error) {
    throw new CliUsageError(`${file} is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** JSON with comments and trailing commas, as tsconfig files are written; undefined when unreadable. */
export function readJsonc(file: string): Record<string, unknown> | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, "utf8");
  // Strings are kept whole ("a//b" in a path stays); comments and trailing commas go.
  const stripped = text
    .replace(/("(?:[^"\\\n]|\\.)*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_match, string: string | undefined) => string ?? "")
    .replace(/,(\s*[}\]])/g, "$1");
  try {
    return JSON.parse(stripped) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const hasDependency = (pkg: PackageJson, name: string): boolean =>
  Boolean(pkg.dependencies?.[name] ?? pkg.devDependencies?.[name]);

function detectModule(root: string, pkg: PackageJson, language: Language): ModuleKind {
  const packageKind: ModuleKind = pkg.type === "module" ? "esm" : "commonjs";
  if (language === "javascript") return packageKind;
  const options = readJsonc(join(root, "tsconfig.json"))?.compilerOptions as Record<string, unknown> | undefined;
  const module = typeof options?.module === "string" ? options.module.toLowerCase() : undefined;
  if (module === "commonjs") return "commonjs";
  // node16/node18/node20/nodenext follow package.json's "type", as Node does.
  if (module === undefined || module.startsWith("node")) return packageKind;
  return "esm";
}

function detectTestRunner(pkg: PackageJson): TestRunner {
  if (hasDependency(pkg, "vitest")) return "vitest";
  if (hasDependency(pkg, "jest") || hasDependency(pkg, "ts-jest")) return "jest";
  return "node";
}

function detectPackageManager(root: string, pkg: PackageJson): PackageManager {
  const declared = /^(npm|pnpm|yarn|bun)@/.exec(pkg.packageManager ?? "")?.[1];
  if (declared) return declared as PackageManager;
  const lockfiles: [string, PackageManager][] = [
    ["pnpm-lock.yaml", "pnpm"],
    ["yarn.lock", "yarn"],
    ["bun.lock", "bun"],
    ["bun.lockb", "bun"],
    ["package-lock.json", "npm"],
  ];
  for (const [file, manager] of lockfiles) if (existsSync(join(root, file))) return manager;
  const agent = /^(npm|pnpm|yarn|bun)\//.exec(process.env.npm_config_user_agent ?? "")?.[1];
  return (agent as PackageManager | undefined) ?? "npm";
}

/** Detects the app in `root`, with `overrides` winning over what is found. */
export function detectProject(root: string, overrides: ProjectOverrides = {}): Project {
  const packageJson = readPackageJson(root);
  const language = overrides.language ?? (existsSync(join(root, "tsconfig.json")) || hasDependency(packageJson, "typescript") ? "typescript" : "javascript");
  const module = overrides.module ?? detectModule(root, packageJson, language);
  const notes: string[] = [];
  let testRunner = overrides.testRunner ?? detectTestRunner(packageJson);
  if (testRunner === "jest" && module === "commonjs" && !overrides.testRunner) {
    // Jest loads CommonJS through a require of its own, which cannot load an ES module
    // before Node 24.9 ("Must use import to load ES Module"), and Errand's packages are ES
    // modules: a jest test of a CommonJS app fails before it starts. node:test loads them.
    testRunner = "node";
    notes.push("jest is here, but its require cannot load ES modules (Errand's packages) before Node 24.9: tests are written for node:test, which runs beside it (--test-runner jest on Node 24.9+)");
  }
  return {
    root,
    name: typeof packageJson.name === "string" && packageJson.name ? packageJson.name : basename(root),
    packageJson,
    language,
    module,
    testRunner,
    packageManager: overrides.packageManager ?? detectPackageManager(root, packageJson),
    configFile: CONFIG_FILES.find((name) => existsSync(join(root, name))) ?? ["errand.config.cjs", "errand.config.cts"].find((name) => existsSync(join(root, name))),
    notes,
  };
}

/** One line saying what was detected, for init's and generate's output. */
export function describeProject(project: Project): string {
  const runner = project.testRunner === "node" ? "node:test" : project.testRunner;
  return `${project.language === "typescript" ? "TypeScript" : "JavaScript"}, ${project.module === "esm" ? "ES modules" : "CommonJS"}, tests with ${runner}, ${project.packageManager}`;
}
