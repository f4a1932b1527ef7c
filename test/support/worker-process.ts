// `errand work` as a real child process, for the fault suite (test/faults/): spawned as
// users run it (the built CLI and a config file), its output collected for failure
// messages, and killed after each test if still alive. Plus the runs file the fault
// fixtures' jobs write to, and the one-line summary each fault case prints.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { waitFor } from "@errand/core/testing";
import { expect } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CLI = join(ROOT, "packages/core/dist/cli/main.js");

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** An `errand work` process, its output collected as it arrives. */
export class WorkerProcess {
  /** Every worker still running; `killAll()` ends them (call it in afterEach). */
  private static readonly alive = new Set<WorkerProcess>();
  stdout = "";
  stderr = "";
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;

  /** Starts `errand work --config <config> -c <concurrency>` with `env` added to the environment. */
  constructor(config: string, concurrency: number, env: Record<string, string>) {
    this.child = spawn(process.execPath, [CLI, "work", "--config", config, "-c", String(concurrency)], {
      cwd: ROOT,
      env: { ...process.env, ERRAND_URL: "", ERRAND_DEBUG: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on("close", (code, signal) => resolve({ code, signal })));
    WorkerProcess.alive.add(this);
    void this.exited.then(() => WorkerProcess.alive.delete(this));
  }

  /** SIGKILLs every worker still running. */
  static killAll(): void {
    for (const worker of WorkerProcess.alive) worker.child.kill("SIGKILL");
    WorkerProcess.alive.clear();
  }

  /** The last lines of output, for failure messages. */
  tail(): string {
    const last = (text: string) => text.trimEnd().split("\n").slice(-15).join("\n");
    return `--- worker stdout (tail):\n${last(this.stdout)}\n--- worker stderr (tail):\n${last(this.stderr)}`;
  }

  /** Resolves with the exit status; kills the process and fails after `timeoutMs`. */
  async exit(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        reject(new Error(`the worker did not exit within ${timeoutMs} ms\n${this.tail()}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Resolves once the worker said it started: it installs its SIGTERM handler in the same
   * turn, so a SIGTERM before that line would kill the process as a plain signal does.
   */
  async started(timeoutMs = 15_000): Promise<void> {
    await waitFor(() => / started: /.test(this.stdout) || this.child.exitCode !== null, { timeoutMs, message: `the worker to start\n${this.tail()}` });
  }

  /** SIGTERM once the worker has started, and the clean exit that must follow. */
  async stop(): Promise<void> {
    // A worker with nothing left to do may be stopped right after it was spawned.
    await this.started();
    this.child.kill("SIGTERM");
    const { code, signal } = await this.exit(15_000);
    expect({ code, signal }, this.tail()).toEqual({ code: 0, signal: null });
  }
}

/** Runs recorded in a runs file (see {@link countRuns}). */
export interface Runs {
  /** Runs in all. */
  total: number;
  /** Distinct jobs that ran. */
  distinct: number;
  /** Arguments of the jobs that ran more than once. */
  repeated: number[];
  /** Arguments of every job that ran. */
  args: Set<number>;
}

/** Counts the runs recorded in a runs file (one line per run, the job's argument); none when it does not exist yet. */
export function countRuns(file: string): Runs {
  const lines = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
  const counts = new Map<number, number>();
  for (const line of lines) counts.set(Number(line), (counts.get(Number(line)) ?? 0) + 1);
  const repeated = [...counts].filter(([, count]) => count > 1).map(([n]) => n);
  return { total: lines.length, distinct: counts.size, repeated, args: new Set(counts.keys()) };
}

/** Prints a fault case's one-line summary (counts to quote in a closing note). */
export function printSummary(backend: string, name: string, fields: Record<string, number | string>): void {
  console.log(`[${backend} faults] ${name}: ${Object.entries(fields).map(([key, value]) => `${key} ${value}`).join(", ")}`);
}
