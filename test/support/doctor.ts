// `errand doctor` run for real (the built CLI) against a config written in a scratch
// directory under os.tmpdir(), outside the monorepo, as an app's would be: the directory gets
// a symlink to the monorepo's node_modules so the config's imports (@errand/core, the
// adapters) resolve as they would in an app. Shared by the doctor test files.
import { mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { afterAll } from "vitest";

import { CLI, ROOT } from "./errand-process.js";
import { runNode } from "./run-node.js";

/** The PostgreSQL adapter's migrations, by name (`021_interrupt`), in order. */
export const MIGRATIONS = readdirSync(fileURLToPath(new URL("../../packages/adapter-postgres/sql/migrations/", import.meta.url)))
  .filter((file) => /^\d{3}_[\w-]+\.sql$/.test(file))
  .sort()
  .map((file) => file.slice(0, -4));

/** The result of one `errand doctor` run. */
export interface DoctorRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The check lines (those starting with ✔, ✘ or –). */
  lines: string[];
  /** Wall time of the run, in ms. */
  ms: number;
}

const dirs: string[] = [];

/** A new scratch directory outside the monorepo with node_modules linked in; removed after the file. */
export function appDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "errand-doctor-"));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  dirs.push(dir);
  return dir;
}

/** Writes `errand.config.mjs` (the module's source) into a new {@link appDir}; answers the directory. */
export function appWithConfig(source: string): string {
  const dir = appDir();
  writeFileSync(join(dir, "errand.config.mjs"), source);
  return dir;
}

/** Installs the file's hook: remove the scratch directories. */
export function doctorHooks(): void {
  afterAll(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
}

/** Runs `errand ...args` in `cwd` in the production environment; fails after `timeoutMs` (the child is SIGKILLed). */
export async function runCli(cwd: string, args: readonly string[], env: Record<string, string> = {}, timeoutMs = 15_000): Promise<DoctorRun> {
  const { code, stdout, stderr, timedOut, elapsedMs } = await runNode([CLI, ...args], { cwd, deadlineMs: timeoutMs, env: { ERRAND_DEBUG: "", NODE_ENV: "production", ...env } });
  if (timedOut) throw new Error(`errand ${args.join(" ")} did not exit within ${timeoutMs} ms\n--- stdout:\n${stdout}\n--- stderr:\n${stderr}`);
  const lines = stdout.split("\n").filter((line) => /^[✔✘–] /.test(line));
  return { code, stdout, stderr, lines, ms: elapsedMs };
}

/** `errand doctor` in `cwd`. */
export function doctor(cwd: string, args: readonly string[] = [], env: Record<string, string> = {}): Promise<DoctorRun> {
  return runCli(cwd, ["doctor", ...args], env);
}

/** The one check line matching `pattern`; fails showing the whole output otherwise. */
export function lineOf(run: DoctorRun, pattern: RegExp): string {
  const found = run.lines.filter((line) => pattern.test(line));
  if (found.length !== 1) throw new Error(`expected one check line matching ${pattern}, got ${found.length}\n--- stdout:\n${run.stdout}\n--- stderr:\n${run.stderr}`);
  return found[0]!;
}
