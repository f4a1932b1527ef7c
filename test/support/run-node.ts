// Runs a Node script as a child process with a deadline, for tests that exercise
// programs the way users run them (the demo, compiled fixtures).
import { spawn } from "node:child_process";

/** How a child run ended. */
export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the deadline passed and the child was killed. */
  timedOut: boolean;
  elapsedMs: number;
}

/**
 * Runs `node ...args` in `cwd`, killing it after `deadlineMs`. Never rejects.
 * `ERRAND_URL` and `ERRAND_ENV` are removed (these programs configure their adapters
 * themselves), then `options.env` is added.
 */
export function runNode(args: readonly string[], options: { cwd: string; deadlineMs: number; env?: Record<string, string> }): Promise<ChildResult> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.ERRAND_URL;
    delete env.ERRAND_ENV;
    Object.assign(env, options.env);
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.deadlineMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, elapsedMs: performance.now() - started });
    });
  });
}
