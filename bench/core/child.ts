/**
 * Runs one scenario of run.ts in a fresh `node --expose-gc` process and hands back what it
 * sent over IPC. Fresh processes keep figures independent: no shared heap, JIT state or
 * leftover timers.
 */
import { fork } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import type { ScenarioName } from "./scenarios.js";

const RUN = join(dirname(fileURLToPath(import.meta.url)), "run.js");

/** Runs `name` with `params` in a child (`run.js --child name params`); `execArgv` is added to `--expose-gc`. */
export function inChild<T>(name: ScenarioName, params: unknown, execArgv: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = fork(RUN, ["--child", name, JSON.stringify(params)], {
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
      else reject(new Error(`scenario ${name} ${JSON.stringify(params)} exited with ${signal ?? code}`));
    });
  });
}
