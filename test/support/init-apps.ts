// Helpers of the tests that run `errand init` in new apps (test/init-*-app.test.ts): the
// tarballs directory `--from` takes, commands that must succeed, and the example job run
// under `errand work`.
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";

import { expect } from "vitest";

import { ROOT } from "./errand-process.js";
import { CACHE, packWorkspace, run, start, type RunResult, type UserApp, type WorkspacePackage } from "./user-app.js";

/** A cold npm install of vitest + typescript, then init's own install, on a loaded 2-core machine. */
export const INSTALL_MS = 300_000;
/** npm answers from its cache when it can (the monorepo's install filled it with these versions). */
export const NPM_ENV = { npm_config_prefer_offline: "true" };

/** A directory holding `packages`' tarballs under npm pack's names, for `--from`. */
export async function tarballDir(packages: WorkspacePackage[]): Promise<string> {
  const packed = await packWorkspace(packages);
  const dir = join(CACHE, "from", `${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, tarball] of Object.entries(packed)) {
    const { name: packageName, version } = JSON.parse(readFileSync(join(ROOT, "packages", name, "package.json"), "utf8")) as { name: string; version: string };
    symlinkSync(tarball, join(dir, `${packageName.replace(/^@/, "").replace("/", "-")}-${version}.tgz`));
  }
  return dir;
}

/** Runs a command and fails with its output unless it exits 0; its output without colours. */
export async function ok(app: UserApp, cmd: string, args: string[], env: Record<string, string> = {}, timeout?: number): Promise<RunResult> {
  const result = await run(app, cmd, args, { env, ...(timeout && { timeout }) });
  if (result.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  // vitest and jest colour their reports even into a pipe.
  return { ...result, stdout: stripVTControlCharacters(result.stdout), stderr: stripVTControlCharacters(result.stderr) };
}

/** Enqueues HelloJob("Ada") with the installed CLI while `errand work` runs, and waits for its result. */
export async function runExampleJob(app: UserApp, env: Record<string, string>): Promise<{ status: Record<string, unknown>; ms: number }> {
  const started = performance.now();
  const worker = start(app, "errand", ["work", "--concurrency", "2"], { env });
  try {
    await worker.line(/worker .* started: adapter/, 60_000);
    const enqueued = await ok(app, "errand", ["enqueue", "HelloJob", '["Ada"]'], env);
    const jobId = /^([0-9a-f-]{36}) HelloJob/.exec(enqueued.stdout)?.[1];
    expect(jobId, enqueued.stdout).toBeDefined();
    await worker.line(new RegExp(`HelloJob ${jobId} completed`), 30_000);
    const status = JSON.parse((await ok(app, "errand", ["status", jobId!, "--json"], env)).stdout) as Record<string, unknown>;
    return { status, ms: performance.now() - started };
  } finally {
    const stopped = await worker.stop();
    expect(stopped.code, stopped.stderr).toBe(0);
  }
}

