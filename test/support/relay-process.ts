// `errand relay` (or `errand work`, which runs the relay beside its worker) as a real child
// process on the outbox fixture config (test/fixtures/outbox), for the outbox's fault tests.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

import { waitFor } from "@errand/core/testing";

import { CLI, ROOT } from "./cli.js";

/** The fixture config every relay process loads. */
export const OUTBOX_CONFIG = join(ROOT, "test/fixtures/outbox/errand.config.mjs");

/** One `errand` child process on the outbox fixture. */
export class RelayProcess {
  private static readonly alive = new Set<RelayProcess>();
  stdout = "";
  stderr = "";
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** Starts `errand <args> --config <fixture>` with `env` added to the environment. */
  constructor(args: readonly string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [CLI, ...args, "--config", OUTBOX_CONFIG], {
      cwd: ROOT,
      env: { ...process.env, ERRAND_URL: "", ERRAND_DEBUG: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on("close", (code, signal) => resolve({ code, signal })));
    RelayProcess.alive.add(this);
    void this.exited.then(() => RelayProcess.alive.delete(this));
  }

  /** SIGKILLs every relay process still running (afterAll). */
  static killAll(): void {
    for (const relay of RelayProcess.alive) relay.child.kill("SIGKILL");
  }

  /** The output, for failure messages. */
  tail(): string {
    const last = (text: string) => text.trimEnd().split("\n").slice(-15).join("\n");
    return `--- stdout (tail):\n${last(this.stdout)}\n--- stderr (tail):\n${last(this.stderr)}`;
  }

  /** Resolves once the process said it started (its SIGTERM handler is then installed). */
  async started(): Promise<void> {
    await waitFor(() => / started/.test(this.stdout) || this.child.exitCode !== null, { timeoutMs: 30_000, message: `the process to start\n${this.tail()}` });
    if (this.child.exitCode !== null) throw new Error(`the process exited at start\n${this.tail()}`);
  }

  /** SIGKILL, and its exit. */
  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** SIGTERM once started; resolves with how it exited. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    await this.started();
    this.child.kill("SIGTERM");
    return this.exited;
  }
}
