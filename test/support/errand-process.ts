// An `errand` CLI command as a real child process (the built CLI, as users run it), the base
// of the CLI tests' processes (cli.ts), the fault suite's workers (worker-process.ts) and the
// outbox's relays (relay-process.ts):
// spawned with the test's environment, its output collected as it arrives for failure
// messages, tracked while alive so a file's hooks can SIGKILL what a test left running.
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { waitFor } from "@errand/core/testing";

/** The repository root, where the CLI runs. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The built CLI (`npx tsc -b` first). */
export const CLI = join(ROOT, "packages/core/dist/cli/main.js");

/** How a process ended. */
export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** Processes still running, per subclass, so `Subclass.killAll()` ends only its own kind. */
const alive = new Map<Function, Set<ErrandProcess>>();

/** A running `node <cli> ...args`, its stdout and stderr collected as they arrive. */
export class ErrandProcess {
  stdout = "";
  stderr = "";
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;

  /**
   * Starts `errand ...args` in the repository root with `env` added to the environment
   * (`ERRAND_URL` and `ERRAND_DEBUG` cleared unless `env` sets them). `label` prefixes the
   * output in {@link tail} ("worker" → `--- worker stdout (tail):`).
   */
  constructor(args: readonly string[], env: Record<string, string>, private readonly label = "") {
    this.child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, ERRAND_URL: "", ERRAND_DEBUG: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on("close", (code, signal) => resolve({ code, signal })));
    const kind = this.constructor;
    const set = alive.get(kind) ?? new Set();
    alive.set(kind, set.add(this));
    void this.exited.then(() => set.delete(this));
  }

  /** SIGKILLs every process of this class still running (a file's afterEach or afterAll). */
  static killAll(): void {
    const set = alive.get(this);
    for (const running of set ?? []) running.child.kill("SIGKILL");
    set?.clear();
  }

  /** The last 15 lines of each output, for failure messages. */
  tail(): string {
    const last = (text: string) => text.trimEnd().split("\n").slice(-15).join("\n");
    const name = this.label ? `${this.label} ` : "";
    return `--- ${name}stdout (tail):\n${last(this.stdout)}\n--- ${name}stderr (tail):\n${last(this.stderr)}`;
  }

  /**
   * Resolves once stdout matches `pattern` (the CLI's "started" line: its SIGTERM handler is
   * installed just before it, so a SIGTERM before it would kill the process as a plain
   * signal does), or once the process exited.
   */
  protected async until(pattern: RegExp, timeoutMs: number): Promise<void> {
    await waitFor(() => pattern.test(this.stdout) || this.child.exitCode !== null, { timeoutMs, message: `the ${this.label || "process"} to start\n${this.tail()}` });
  }

  /**
   * Resolves with the exit status and the whole output; SIGKILLs the process and fails after
   * `timeoutMs`. The default catches a process that never exits, not a slow one: a CLI
   * command that exits in 0.3 s alone took over 10 s with six started at once beside two
   * suites (2026-12-04), so it is 25 s, under the tests' 30 s.
   */
  async exit(timeoutMs = 25_000): Promise<Exit & { stdout: string; stderr: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        reject(new Error(`the ${this.label || "process"} did not exit within ${timeoutMs} ms\n${this.tail()}`));
      }, timeoutMs);
    });
    try {
      const exit = await Promise.race([this.exited, timeout]);
      return { ...exit, stdout: this.stdout, stderr: this.stderr };
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL, and its exit. */
  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }
}
