// A user's app, for tests that use Errand the way an app does: the workspace packages are
// packed (`npm pack`, as they would be published), an app is made in a fresh directory under
// os.tmpdir() — outside the monorepo, so nothing resolves through its node_modules — and the
// tarballs are installed there with npm, beside whatever registry packages the scenario
// needs (typescript, tsx, vitest, @types/node). Commands then run in the app with its
// node_modules/.bin on PATH.
//
// The packing, the cache of installed trees and how long each step takes: user-app-cache.ts.
import { type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

import { waitFor } from "@errand/core/testing";
import { afterAll } from "vitest";

import { ROOT } from "./errand-process.js";
import { CACHE, cleanEnv, INSTALL_FLAGS, linkTree, npm, packWorkspace, signalGroup, spawnCollect, template, type RunResult, type WorkspacePackage } from "./user-app-cache.js";

export { CACHE, packWorkspace, type RunResult, type WorkspacePackage };

/** What {@link createApp} makes. */
export interface AppSpec {
  /** Workspace packages to pack and install from their tarballs (as `dependencies`). */
  packages: WorkspacePackage[];
  /**
   * Registry packages (as `devDependencies`): `"typescript"` takes the range the monorepo
   * itself uses (root or test/ package.json), `"typescript@^6.0.2"` names one.
   */
  registry?: string[];
  /** package.json fields other than the dependencies: `name`, `type`, `scripts`... */
  packageJson?: Record<string, unknown>;
  /** Files to write, by path relative to the app. */
  files?: Record<string, string>;
  /** Run `npm install` in the app itself rather than linking a cached installed tree. */
  fresh?: boolean;
}

/** An app made by {@link createApp}. */
export interface UserApp {
  /** Its directory, under os.tmpdir(). */
  dir: string;
  /** The tarball of each workspace package it installed, by directory name (`core`). */
  tarballs: Partial<Record<WorkspacePackage, string>>;
  /** The package.json written, dependencies included. */
  packageJson: Record<string, unknown>;
}

/** Options of {@link run} and {@link start}. */
export interface RunOptions {
  /** Added to the environment (after the test runner's own variables are removed). */
  env?: Record<string, string>;
  /** Kill the command after this long; default 60 s for {@link run}, none for {@link start}. */
  timeout?: number;
}

/** `"typescript"` → the monorepo's range; `"typescript@^6"` → that range. */
function registryRange(entry: string): [name: string, range: string] {
  const at = entry.indexOf("@", 1);
  if (at > 0) return [entry.slice(0, at), entry.slice(at + 1)];
  for (const manifest of ["package.json", "test/package.json"]) {
    const json = JSON.parse(readFileSync(join(ROOT, manifest), "utf8")) as Record<string, Record<string, string> | undefined>;
    const range = json.devDependencies?.[entry] ?? json.dependencies?.[entry];
    if (range) return [entry, range];
  }
  throw new Error(`registry package ${entry}: the monorepo does not use it, so name a range ("${entry}@^1.2.3")`);
}

/**
 * Makes an app in a fresh directory under os.tmpdir() from `spec`: its package.json (the
 * given fields plus the dependencies), its files, and its node_modules installed from the
 * packed workspace packages and the registry. Removed by {@link userAppHooks} after the file.
 */
export async function createApp(spec: AppSpec): Promise<UserApp> {
  const tarballs = await packWorkspace(spec.packages);
  const apps = join(CACHE, "apps");
  const dir = join(apps, randomBytes(6).toString("hex"));
  if (!relative(ROOT, dir).startsWith("..")) throw new Error(`the app directory ${dir} is inside the monorepo: set TMPDIR to a directory outside ${ROOT}`);
  const shadowing = ancestors(dir).filter((ancestor) => existsSync(join(ancestor, "node_modules")));
  if (shadowing.length > 0) throw new Error(`${shadowing.map((d) => join(d, "node_modules")).join(", ")} would be found by the app's imports: remove it, or set TMPDIR elsewhere`);
  const read = (tarball: string) => JSON.parse(readFileSync(join(ROOT, "packages", tarball, "package.json"), "utf8")) as { name: string };
  const dependencies = Object.fromEntries(Object.entries(tarballs).map(([name, tarball]) => [read(name).name, `file:${relative(dir, tarball)}`]));
  const devDependencies = Object.fromEntries((spec.registry ?? []).map(registryRange));
  // esbuild (tsx, vitest) has an install script: npm 11.16+ warns unless allowScripts reviewed it, as the monorepo's has.
  const allowScripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { allowScripts?: Record<string, boolean> }).allowScripts;
  const extra = spec.registry?.length && allowScripts ? { allowScripts } : {};
  const packageJson = { name: "user-app", version: "1.0.0", private: true, ...spec.packageJson, dependencies, devDependencies, ...extra };
  mkdirSync(dir, { recursive: true });
  created.add(dir);
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(packageJson, null, 2)}\n`);
  for (const [path, content] of Object.entries(spec.files ?? {})) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  if (spec.fresh) {
    await npm(["install", ...INSTALL_FLAGS], dir, 300_000);
  } else {
    const installed = await template(dependencies, devDependencies, extra);
    linkTree(join(installed, "node_modules"), join(dir, "node_modules"));
    // npm rewrites its hidden lockfile in place: a hard link would carry an install in the app back to the template.
    const hidden = join(dir, "node_modules", ".package-lock.json");
    rmSync(hidden, { force: true });
    copyFileSync(join(installed, "node_modules", ".package-lock.json"), hidden);
    const lock = JSON.parse(readFileSync(join(installed, "package-lock.json"), "utf8")) as { name: string; packages: Record<string, { name?: string }> };
    lock.name = packageJson.name;
    if (lock.packages[""]) lock.packages[""].name = packageJson.name;
    writeFileSync(join(dir, "package-lock.json"), `${JSON.stringify(lock, null, 2)}\n`);
  }
  return { dir, tarballs, packageJson };
}

/** `dir`'s parent directories, nearest first. */
function ancestors(dir: string): string[] {
  const found: string[] = [];
  for (let at = dirname(dir); at !== dirname(at); at = dirname(at)) found.push(at);
  return [...found, "/"];
}

/** A command started in an app by {@link start}, its output collected as it arrives. */
export interface AppProcess {
  readonly child: ChildProcess;
  /** The output so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the first stdout line matching `pattern`; fails after `timeoutMs`, or when the process exits first, showing its output. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /**
   * Sends `signal` (default SIGTERM) to its process group — npx and the command it runs —
   * and resolves with how the group's leader ended; SIGKILLs the group after `timeoutMs`.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<RunResult>;
  /** How it ended, whenever it does. */
  readonly exited: Promise<RunResult>;
}

const running = new Set<ChildProcess>();
const created = new Set<string>();

/**
 * Starts `cmd args` in the app, with `node_modules/.bin` and this Node first on PATH and
 * the test runner's variables (`VITEST*`, `NODE_ENV`, `NODE_OPTIONS`, `ERRAND_*`, the outer
 * npm's `npm_package_*`...) removed from the environment.
 */
export function start(app: UserApp, cmd: string, args: readonly string[] = [], options: RunOptions = {}): AppProcess {
  const env = cleanEnv(options.env, join(app.dir, "node_modules", ".bin"));
  const { child, output, done } = spawnCollect(cmd, args, app.dir, env, options.timeout);
  running.add(child);
  let ended = false;
  const exited = done.then(({ missing, ...result }) => {
    ended = true;
    running.delete(child);
    if (missing) throw new Error(`${cmd} is not on PATH nor in ${app.dir}/node_modules/.bin`);
    return { ...result };
  });
  exited.catch(() => {});
  const show = () => `--- ${cmd} ${args.join(" ")} stdout:\n${output.stdout}\n--- stderr:\n${output.stderr}`;
  return {
    child,
    exited,
    get stdout() {
      return output.stdout;
    },
    get stderr() {
      return output.stderr;
    },
    async line(pattern, timeoutMs = 20_000) {
      const found = () => output.stdout.split("\n").find((line) => pattern.test(line));
      try {
        await waitFor(() => found() !== undefined || ended, { timeoutMs, message: `a stdout line matching ${pattern}` });
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${show()}`);
      }
      const line = found();
      if (line === undefined) throw new Error(`exited before printing a line matching ${pattern}\n${show()}`);
      return line;
    },
    async stop(signal = "SIGTERM", timeoutMs = 20_000) {
      if (!ended) signalGroup(child, signal);
      const timer = setTimeout(() => signalGroup(child, "SIGKILL"), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Runs `cmd args` in the app to completion (see {@link start}); killed after `timeout` (default 60 s). */
export function run(app: UserApp, cmd: string, args: readonly string[] = [], options: RunOptions = {}): Promise<RunResult> {
  return start(app, cmd, args, { ...options, timeout: options.timeout ?? 60_000 }).exited;
}

/** Installs the file's hooks: after it, SIGKILL the commands still running and remove its apps. */
export function userAppHooks(): void {
  afterAll(() => {
    for (const child of running) signalGroup(child, "SIGKILL");
    running.clear();
    for (const dir of created) rmSync(dir, { recursive: true, force: true });
    created.clear();
  });
}
