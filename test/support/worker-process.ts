// `errand work` as a real child process, for the fault suite (test/faults/): spawned as
// users run it (the built CLI and a config file), its output collected for failure
// messages, and killed after each test if still alive. Plus the runs file the fault
// fixtures' jobs write to, and the one-line summary each fault case prints.
import { existsSync, readFileSync } from "node:fs";

import { expect } from "vitest";

import { ErrandProcess } from "./errand-process.js";

/** An `errand work` process, its output collected as it arrives; `WorkerProcess.killAll()` ends those still running (call it in afterEach). */
export class WorkerProcess extends ErrandProcess {
  /** Starts `errand work --config <config> -c <concurrency>` with `env` added to the environment. */
  constructor(config: string, concurrency: number, env: Record<string, string>) {
    super(["work", "--config", config, "-c", String(concurrency)], env, "worker");
  }

  /**
   * Resolves once the worker said it started: it installs its SIGTERM handler just before
   * that line, so a SIGTERM before it would kill the process as a plain signal does.
   */
  async started(timeoutMs = 15_000): Promise<void> {
    await this.until(/ started: /, timeoutMs);
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
