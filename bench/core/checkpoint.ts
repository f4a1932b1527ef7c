/**
 * Instructions per checkpoint of a resumable job (`step.advance()`, issue 17), counted by
 * valgrind's callgrind as the difference of two whole runs of one job: a step advancing
 * `--advances` times, and the same job advancing 0 times. The loop's own work is the same
 * in both but for the advances, so the difference over the count is what one advance costs
 * (its cursor move, the stop check, the signal read, the once-a-second report's clock read).
 * A loop calling an empty method as many times gives the floor to compare with:
 *
 *   npx tsc -b bench && node bench/dist/core/checkpoint.js [--advances 200000]
 *
 * The job runs through `performContinuable` (`@errand/core/testing`): the executor with a
 * stop check, as a worker runs it. V8 runs single-threaded (no background compiler or GC
 * threads), as in instructions.ts.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

import { configure, Job } from "@errand/core";
import { performContinuable } from "@errand/core/testing";

const SELF = fileURLToPath(import.meta.url);
const V8_FLAGS = ["--single-threaded", "--predictable-gc-schedule", "--no-incremental-marking", "--initial-old-space-size=1024"];

type Mode = "advance" | "method";

class AdvanceJob extends Job<[count: number]> {
  async perform(count: number) {
    await this.step("rows", (step) => {
      for (let row = 0; row < count; row++) step.advance();
    });
  }
}

/** The floor: the same loop calling an empty method. */
class Counter {
  value = 0;
  bump(): void {
    this.value++;
  }
}

class MethodJob extends Job<[count: number]> {
  async perform(count: number) {
    await this.step("rows", () => {
      const counter = new Counter();
      for (let row = 0; row < count; row++) counter.bump();
      if (counter.value !== count) throw new Error("the loop did not run");
    });
  }
}

async function child(mode: Mode, count: number): Promise<void> {
  const runtime = configure({ adapter: "test", jobs: [AdvanceJob, MethodJob] });
  const run = await performContinuable(mode === "advance" ? AdvanceJob : MethodJob, [count]);
  if (run.outcome !== "succeeded") throw new Error(`the job ended ${run.outcome}: ${String(run.error)}`);
  await runtime.close();
}

function count(mode: Mode, advances: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn("valgrind", ["--tool=callgrind", "--callgrind-out-file=/dev/null", process.execPath, ...V8_FLAGS, SELF, "--child", mode, String(advances)], {
      stdio: ["ignore", "inherit", "pipe"],
    });
    let stderr = "";
    proc.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    proc.on("error", (error) => reject(new Error(`cannot start valgrind (apt-get install valgrind): ${error.message}`)));
    proc.on("exit", (code) => {
      const collected = /Collected : (\d+)/.exec(stderr);
      if (code !== 0 || !collected) reject(new Error(`the run under callgrind failed (exit ${code}):\n${stderr.split("\n").slice(-20).join("\n")}`));
      else resolve(Number(collected[1]));
    });
  });
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") {
  await child(argv[1] as Mode, Number(argv[2]));
} else {
  const index = argv.indexOf("--advances");
  const advances = index < 0 ? 200_000 : Number(argv[index + 1]);
  if (!Number.isInteger(advances) || advances < 1) throw new Error(`--advances must be a positive integer, got ${argv[index + 1]}`);
  for (const mode of ["advance", "method"] as const) {
    const [none, many] = [await count(mode, 0), await count(mode, advances)];
    console.log(`${mode === "advance" ? "step.advance()" : "an empty method (floor)"}: ${((many - none) / advances).toFixed(1)} instructions each (${advances} calls)`);
  }
}
