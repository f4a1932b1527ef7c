/**
 * Runs one scenario of run.ts in a fresh `node --expose-gc` process and hands back what it
 * sent over IPC (see ../lib/child.ts).
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { runChild } from "../lib/child.js";
import type { ScenarioName } from "./scenarios.js";

const RUN = join(dirname(fileURLToPath(import.meta.url)), "run.js");

/** Runs `name` with `params` in a child (`run.js --child name params`); `execArgv` is added to `--expose-gc`. */
export function inChild<T>(name: ScenarioName, params: unknown, execArgv: string[] = []): Promise<T> {
  return runChild<T>(RUN, ["--child", name, JSON.stringify(params)], execArgv, `scenario ${name} ${JSON.stringify(params)}`);
}
