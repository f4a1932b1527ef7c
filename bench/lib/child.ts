/**
 * One measurement in a fresh `node --expose-gc` process, its numbers back over IPC. Fresh
 * processes keep figures independent: no shared heap, JIT state, pools or leftover timers.
 * Shared by the core and the PostgreSQL benchmarks.
 */
import { fork } from "node:child_process";

/**
 * Forks `script` with `args`, resolves with the last message it sent once it exits with 0.
 * `execArgv` is added to `--expose-gc`.
 */
export function runChild<T>(script: string, args: string[], execArgv: string[] = [], label = args.join(" ")): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = fork(script, args, {
      execArgv: ["--expose-gc", ...execArgv],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let result: T | undefined;
    let got = false;
    proc.on("message", (message) => {
      result = message as T;
      got = true;
    });
    proc.on("error", reject);
    proc.on("exit", (code, signal) => {
      if (got && code === 0) resolve(result as T);
      else reject(new Error(`${label} exited with ${signal ?? code}`));
    });
  });
}

/** In the child: sends `result` to the parent and exits once it has been delivered. */
export function reply(result: unknown): Promise<never> {
  return new Promise(() => {
    process.send!(result, () => process.exit(0));
  });
}
