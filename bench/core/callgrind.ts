/**
 * One drain of run.ts under valgrind's callgrind, instrumented for its timed part only, with
 * V8's threads and GC pinned down (see instructions.ts for why each flag): shared by
 * instructions.ts and batch.ts.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import type { DrainParams, DrainResult } from "./scenarios.js";

const RUN = join(dirname(fileURLToPath(import.meta.url)), "run.js");
const V8_FLAGS = ["--expose-gc", "--single-threaded", "--predictable-gc-schedule", "--no-incremental-marking", "--initial-old-space-size=1024"];

/** What one counted drain gave: the instructions of its timed part, its own figures, and the callgrind file. */
export interface Counted {
  instructions: number;
  result: DrainResult;
  file: string;
}

/** One drain under callgrind (its output in `file`); resolves with the instructions of its timed part. */
export function countOnce(params: DrainParams, file: string): Promise<Counted> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "valgrind",
      ["--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${file}`, process.execPath, ...V8_FLAGS, RUN, "--child", "drain", JSON.stringify(params)],
      { stdio: ["ignore", "inherit", "pipe", "ipc"] },
    );
    let stderr = "";
    let result: DrainResult | undefined;
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("message", (message) => (result = message as DrainResult));
    child.on("error", (error) => reject(new Error(`cannot start valgrind (apt-get install valgrind): ${error.message}`)));
    child.on("exit", (code) => {
      const collected = /Collected : (\d+)/.exec(stderr);
      if (code !== 0 || !result || !collected) {
        reject(new Error(`the drain under callgrind failed (exit ${code}):\n${stderr.split("\n").slice(-20).join("\n")}`));
        return;
      }
      resolve({ instructions: Number(collected[1]), result, file });
    });
  });
}
