/**
 * Installing the packages `errand init` chose, with the app's package manager. Errand's
 * own packages come from the registry at the version of the running CLI, or, with
 * `--from DIR`, from the tarballs `npm pack` wrote there (a release candidate, an offline
 * machine, this repository's own tests).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";

import { CliUsageError } from "../context.js";
import type { PackageManager } from "./project.js";

/**
 * The install spec of each package: `name@^version` for Errand's packages (the version of
 * this CLI), a tarball path when `from` holds one, the bare name otherwise.
 * @throws CliUsageError when `from` is not a directory, or lacks one of Errand's packages.
 */
export function installSpecs(names: readonly string[], version: string, from?: string): string[] {
  const tarballs = from === undefined ? undefined : tarballsIn(from);
  return names.map((name) => {
    if (!name.startsWith("@errand/")) return name;
    if (!tarballs) return `${name}@^${version}`;
    const tarball = tarballs.get(name);
    if (!tarball) throw new CliUsageError(`--from ${from}: no tarball of ${name} there (expected ${tarballName(name)}-<version>.tgz, as npm pack names it)`);
    return tarball;
  });
}

/** `@errand/adapter-redis` → `errand-adapter-redis`, npm pack's file name prefix. */
const tarballName = (name: string): string => name.replace(/^@/, "").replace("/", "-");

function tarballsIn(dir: string): Map<string, string> {
  const absolute = resolve(dir);
  if (!existsSync(absolute)) throw new CliUsageError(`--from ${dir}: no such directory`);
  const found = new Map<string, string>();
  for (const file of readdirSync(absolute).sort()) {
    const match = /^(errand-[a-z0-9-]+?)-(\d+\.\d+\.\d+[^/]*)\.tgz$/.exec(file);
    if (match) found.set(`@errand/${match[1]!.slice("errand-".length)}`, join(absolute, file));
  }
  return found;
}

/** The command line that adds `specs` with `manager` (dev dependencies with `dev`). */
export function installCommand(manager: PackageManager, specs: readonly string[], dev: boolean): string[] {
  switch (manager) {
    case "npm":
      return ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", ...(dev ? ["--save-dev"] : []), ...specs];
    case "pnpm":
      return ["pnpm", "add", ...(dev ? ["--save-dev"] : []), ...specs];
    case "yarn":
      return ["yarn", "add", ...(dev ? ["--dev"] : []), ...specs];
    case "bun":
      return ["bun", "add", ...(dev ? ["--dev"] : []), ...specs];
  }
}

/**
 * Adds `specs` to the app's dependencies in `root`, quietly: the tool's output is shown only
 * when it fails. Answers the command run, or undefined when there was nothing to install.
 * @throws CliUsageError naming the command when it fails (its output goes to stderr first).
 */
export async function install(root: string, manager: PackageManager, specs: readonly string[]): Promise<string | undefined> {
  if (specs.length === 0) return undefined;
  const [command, ...args] = installCommand(manager, specs, false);
  await runQuietly(root, command!, args);
  return [command, ...args].join(" ");
}

function runQuietly(cwd: string, command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], shell: process.platform === "win32" });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", (error) => reject(new CliUsageError(`could not run ${command} (${error.message}); install it, or pass --no-install and add the packages yourself`)));
    child.on("close", (code) => {
      if (code === 0) resolvePromise();
      else {
        // The tool's own words, last lines first in mind: the error report itself is one line.
        process.stderr.write(`${output.trim().split("\n").slice(-15).join("\n")}\n`);
        reject(new CliUsageError(`\`${command} ${args.join(" ")}\` failed with exit code ${code} (its output is above); fix it and run errand init again, or pass --no-install`));
      }
    });
  });
}
