// The installing half of user-app.ts: packing the workspace packages, installing them
// (with registry packages) into cached templates, linking those into apps, and spawning
// commands with a clean environment.
//
// Speed (2026-12-04, 2 cores under a load of ~5, npm 11.19, warm npm cache):
// - `npm pack` of core + the four adapters: 6.8 s one package per call, 3.5 s in one call,
//   so the missing packages are packed in one call. Each tarball is keyed by a hash of the
//   files it holds and kept, so a run packs only what changed since the last one.
// - `npm install --prefer-offline --no-audit --no-fund`: core + adapter-redis 2.7 s (6.2 s
//   with a cold cache); core + four adapters + typescript, tsx, vitest, @types/node 10.2 s
//   (21.6 s cold). Hard-linking that installed tree (5,393 files) into an app takes 0.4 s
//   (a full copy 2.2 s), so each distinct dependency set is installed once into a template
//   keyed by the tarballs and ranges, and apps get hard links to it. `fresh: true` runs a
//   real `npm install` in the app instead.
//
// Layout, shared by concurrent test files (three at once) and kept between runs:
//   <tmp>/errand-user-app/packs/<dir>-<hash>.tgz      one per package content
//   <tmp>/errand-user-app/modules/<key>/              an installed template per dependency set
//   <tmp>/errand-user-app/apps/<random>/              the apps, removed after their test file
//   <tmp>/errand-user-app/locks/<name>/               mkdir locks holding the owner's pid
// Apps and templates sit at the same depth, so the relative `file:../../packs/...` specs in
// package.json and package-lock.json mean the same in both. Unused entries are pruned
// (PRUNE_AFTER_MS) when a process first makes something new.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative } from "node:path";

import { waitFor } from "@errand/core/testing";

import { ROOT } from "./errand-process.js";

/** The workspace packages an app can install, by their directory under packages/. */
export type WorkspacePackage = "core" | "adapter-async" | "adapter-redis" | "adapter-postgres" | "adapter-sqs" | "client" | "dashboard" | "orm" | "nestjs" | "opentelemetry";

/** How a command ended. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the timeout passed and the command was killed. */
  timedOut: boolean;
}

/** The fixed directory shared by every run and test file. */
export const CACHE = join(tmpdir(), "errand-user-app");
/** A lock older than this whose owner cannot be checked is taken over: a cold install of the largest set took 22 s. */
const STALE_LOCK_MS = 5 * 60_000;
/**
 * How long an entry may go unused before {@link pruneOnce} removes it. Every worktree on the
 * machine shares the cache; a template is 8–107 MB and a new one comes with each change to a
 * package, so templates go after 6 hours; a tarball (0.02–0.6 MB) after 3 days; an app a
 * crashed run left behind after a day.
 */
const PRUNE_AFTER_MS = { packs: 3 * 24 * 3600_000, modules: 6 * 3600_000, apps: 24 * 3600_000 };
export const INSTALL_FLAGS = ["--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"];

/** A sha256 of the files `npm pack` takes from a package: package.json, `files`, README and LICENSE. */
export function contentHash(packageDir: string): string {
  const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { files?: string[] };
  const hash = createHash("sha256");
  const add = (path: string): void => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) if (entry !== "node_modules") add(join(path, entry));
      return;
    }
    hash.update(relative(packageDir, path)).update("\0").update(readFileSync(path)).update("\0");
  };
  const extras = readdirSync(packageDir).filter((name) => /^(readme|license)/i.test(name));
  for (const entry of ["package.json", ...(manifest.files ?? []), ...extras].sort()) add(join(packageDir, entry));
  return hash.digest("hex").slice(0, 16);
}

/** The process `pid` is alive (or not ours to signal, which also means alive). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Runs `fn` holding the lock `name`; waits for another holder up to `timeoutMs`, taking over a dead one's. */
async function withLock<T>(name: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const dir = join(CACHE, "locks", name);
  mkdirSync(dirname(dir), { recursive: true });
  await waitFor(
    () => {
      try {
        mkdirSync(dir);
        writeFileSync(join(dir, "pid"), String(process.pid));
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        let owner = NaN;
        try {
          owner = Number(readFileSync(join(dir, "pid"), "utf8"));
        } catch {
          // Just made, pid not written yet; the age check below covers a crash in between.
        }
        const age = existsSync(dir) ? Date.now() - statSync(dir).mtimeMs : 0;
        if ((Number.isInteger(owner) && owner > 0 && !alive(owner)) || age > STALE_LOCK_MS) rmSync(dir, { recursive: true, force: true });
        return false;
      }
    },
    { timeoutMs, intervalMs: 100, message: `the lock ${dir} (another test file packing or installing)` },
  );
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let pruned = false;
/** Removes what {@link PRUNE_AFTER_MS} says is unused, the first time this process makes a tarball or template. */
function pruneOnce(): void {
  if (pruned) return;
  pruned = true;
  for (const [area, maxAge] of Object.entries(PRUNE_AFTER_MS)) {
    const dir = join(CACHE, area);
    for (const entry of existsSync(dir) ? readdirSync(dir) : []) {
      const path = join(dir, entry);
      if (Date.now() - statSync(path).mtimeMs <= maxAge) continue;
      // Renamed first, so no one sees a half-removed template.
      const doomed = join(CACHE, `.removing-${process.pid}-${randomBytes(4).toString("hex")}`);
      try {
        renameSync(path, doomed);
      } catch {
        continue;
      }
      rmSync(doomed, { recursive: true, force: true });
    }
  }
}

/** The environment of npm and of the app's commands: the test runner's and the outer npm's own variables removed. */
export function cleanEnv(extra: Record<string, string> = {}, binDir?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const dropped = /^(npm_package_|npm_lifecycle_|npm_config_local_prefix$|npm_config_workspace|npm_config_include_workspace_root$|npm_command$|npm_execpath$|npm_node_execpath$|INIT_CWD$|VITEST|ERRAND_|NODE_OPTIONS$|NODE_PATH$|NODE_ENV$)/;
  for (const [key, value] of Object.entries(process.env)) if (!dropped.test(key)) env[key] = value;
  const path = [binDir, dirname(process.execPath), env.PATH].filter(Boolean).join(delimiter);
  return { ...env, PATH: path, npm_config_update_notifier: "false", ...extra };
}

/** Runs npm in `cwd`; throws with its output, or with how to get npm when there is none. */
export async function npm(args: string[], cwd: string, timeoutMs: number): Promise<string> {
  const result = await spawnCollect("npm", args, cwd, cleanEnv(), timeoutMs).done;
  if (result.missing) throw new Error("npm is not on PATH: the user-app tests pack and install with npm, which comes with Node.js (https://nodejs.org/en/download)");
  if (result.code !== 0) {
    const why = result.timedOut ? `timed out after ${timeoutMs} ms` : `exited ${result.code}`;
    throw new Error(`npm ${args.join(" ")} (in ${cwd}) ${why}; npm's registry must be reachable for registry packages\n${result.stderr.trim()}\n${result.stdout.trim()}`);
  }
  return result.stdout;
}

/**
 * The tarballs of `packages`, packing those whose content has no tarball yet (one
 * `npm pack` for all of them, under a lock so concurrent test files pack once).
 * The packages must be built (`npx tsc -b`).
 */
export async function packWorkspace(packages: readonly WorkspacePackage[]): Promise<Record<WorkspacePackage, string>> {
  const wanted = [...new Set(packages)].map((name) => {
    const dir = join(ROOT, "packages", name);
    if (!existsSync(join(dir, "package.json"))) throw new Error(`packages/${name} is not a workspace package`);
    if (!existsSync(join(dir, "dist"))) throw new Error(`packages/${name}/dist is missing: build the packages first (\`npx tsc -b\`)`);
    return { name, dir, tarball: join(CACHE, "packs", `${name}-${contentHash(dir)}.tgz`) };
  });
  if (wanted.some(({ tarball }) => !existsSync(tarball))) {
    await withLock("packs", 120_000, async () => {
      const missing = wanted.filter(({ tarball }) => !existsSync(tarball));
      if (missing.length === 0) return;
      pruneOnce();
      const staging = join(CACHE, "packs", `.staging-${process.pid}-${randomBytes(4).toString("hex")}`);
      mkdirSync(staging, { recursive: true });
      try {
        const out = await npm(["pack", ...missing.map(({ dir }) => dir), "--pack-destination", staging, "--json"], staging, 120_000);
        const packed = JSON.parse(out) as { name: string; filename: string }[];
        for (const { dir, tarball } of missing) {
          const { name } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string };
          const file = packed.find((entry) => entry.name === name)?.filename;
          if (!file) throw new Error(`npm pack did not report ${name}:\n${out}`);
          renameSync(join(staging, file), tarball);
        }
      } finally {
        rmSync(staging, { recursive: true, force: true });
      }
    });
  }
  for (const { tarball } of wanted) utimesSync(tarball, new Date(), new Date());
  return Object.fromEntries(wanted.map(({ name, tarball }) => [name, tarball])) as Record<WorkspacePackage, string>;
}

/** Hard-links the tree `from` into `to` (copying across devices); symlinks keep their text. */
export function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) linkTree(source, target);
    else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else {
      try {
        linkSync(source, target);
      } catch {
        copyFileSync(source, target);
      }
    }
  }
}

/** The template holding `dependencies` installed, installing it first when missing. */
export async function template(dependencies: Record<string, string>, devDependencies: Record<string, string>, extra: Record<string, unknown>): Promise<string> {
  const manifest = { name: "errand-user-app", private: true, dependencies, devDependencies, ...extra };
  const key = createHash("sha256").update(JSON.stringify([manifest, process.platform, process.arch, process.versions.modules])).digest("hex").slice(0, 16);
  const dir = join(CACHE, "modules", key);
  if (!existsSync(dir)) {
    await withLock(`modules-${key}`, 300_000, async () => {
      if (existsSync(dir)) return;
      pruneOnce();
      const staging = `${dir}.staging-${process.pid}`;
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(staging, { recursive: true });
      writeFileSync(join(staging, "package.json"), JSON.stringify(manifest, null, 2));
      try {
        await npm(["install", ...INSTALL_FLAGS], staging, 300_000);
        renameSync(staging, dir);
      } finally {
        rmSync(staging, { recursive: true, force: true });
      }
    });
  }
  utimesSync(dir, new Date(), new Date());
  return dir;
}

export interface Spawned extends RunResult {
  /** The command was not found. */
  missing: boolean;
}

/**
 * Sends `signal` to `child`'s process group (see {@link spawnCollect}): npx does not pass
 * SIGTERM on to the command it runs (npm 11.19: npx exits, `errand work` is orphaned and
 * keeps running), so a signal meant for the command goes to the whole group.
 */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // The group is gone already.
  }
}

/**
 * Spawns `cmd` as the leader of a new process group, collecting its output into `output` as
 * it arrives; `done` settles when every process holding its output has exited (the group is
 * SIGKILLed after `timeoutMs`) and never rejects.
 */
export function spawnCollect(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs?: number): { child: ChildProcess; output: Spawned; done: Promise<Spawned> } {
  const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const output: Spawned = { code: null, signal: null, stdout: "", stderr: "", timedOut: false, missing: false };
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output.stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output.stderr += chunk));
  const done = new Promise<Spawned>((resolve) => {
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => ((output.timedOut = true), signalGroup(child, "SIGKILL")), timeoutMs);
    child.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      output.missing = error.code === "ENOENT";
      output.stderr += error.message;
      resolve(output);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve(Object.assign(output, { code, signal }));
    });
  });
  return { child, output, done };
}
