/**
 * Instructions per drained job, counted by valgrind's callgrind. Wall-clock figures on a
 * shared 2-vCPU machine move by ±15 % with the neighbours' load; an instruction count does
 * not, so two commits can be compared minutes or days apart:
 *
 *   npx tsc -b bench && node bench/dist/core/instructions.js [--concurrency 50] [--jobs 100000] [--runs 2]
 *
 * Each run is the drain scenario of run.ts in a child under
 * `valgrind --tool=callgrind --instr-atstart=no`, with instrumentation switched on for the
 * timed part only (worker start → every settlement written; `TimedProfile`). The child runs
 * V8 with `--single-threaded --predictable-gc-schedule --no-incremental-marking`: no
 * background compiler or GC threads, heap growth that does not depend on measured times,
 * and no marking steps timed against the mutator. Both builds compared pay the same for
 * that. The fetch loop still yields every 10 ms of (valgrind-slowed) work, so a drain takes
 * a few hundred event-loop turns instead of fifty; those are counted too.
 *
 * The old space starts at 1 GB (`--initial-old-space-size`), so no full GC falls inside the
 * timed part; young-generation collections (the cost of garbage) are counted. Without it, a
 * build that allocates a little less moved the one full GC of a 100k drain to where the heap
 * was fuller and counted 110M more marking (2 % of the drain) for less work. The size of the
 * live heap is better compared directly (`process.memoryUsage().heapUsed` after a GC).
 *
 * Identical runs then repeat within ±0.2 % at c = 10 and 50, ±0.7 % at c = 1 (with the
 * default heap, where full GCs fell and what they flushed and V8 compiled again, ±3 %). The
 * second figure leaves out V8's optimizing compiler (`v8::internal::compiler`), which runs on
 * a background thread outside valgrind.
 *
 * Prints both per job and keeps each run's `.callgrind` file in results/profiles/ for
 * `callgrind_annotate --inclusive=no <file>`: builtins, the JSON parser and the GC are named
 * there; code V8 compiled shows as `0x…`. A drain of 100k jobs takes 1–2 minutes under
 * valgrind (more on a busy machine).
 */
import { mkdir } from "node:fs/promises";
import { join, relative } from "node:path";

import { BENCH_DIR } from "../lib/profile.js";
import { median } from "../lib/stats.js";
import { countOnce } from "./callgrind.js";
import { compilerInstructions } from "../lib/machine.js";

function option(argv: string[], name: string, fallback: number): number {
  const index = argv.indexOf(name);
  if (index < 0) return fallback;
  const value = Number(argv[index + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be an integer >= 1, got ${argv[index + 1]}`);
  return value;
}

const KNOWN = new Set(["--concurrency", "--jobs", "--runs"]);
const argv = process.argv.slice(2);
for (let index = 0; index < argv.length; index += 2) {
  if (!KNOWN.has(argv[index]!)) throw new Error(`unknown option ${argv[index]}; usage: instructions.js [--concurrency 50] [--jobs 100000] [--runs 2]`);
}
const concurrency = option(argv, "--concurrency", 50);
const jobs = option(argv, "--jobs", 100_000);
const runs = option(argv, "--runs", 2);
const dir = join(BENCH_DIR, "results", "profiles");
await mkdir(dir, { recursive: true });

const perJob: number[] = [];
const withoutCompiler: number[] = [];
const perJobText = (instructions: number) => Math.round(instructions / jobs).toLocaleString("en-US");
for (let run = 1; run <= runs; run++) {
  const file = join(dir, `drain-c${concurrency}-${new Date().toISOString().replace(/[:.]/g, "-")}.callgrind`);
  const { instructions, result } = await countOnce({ concurrency, jobs, callgrind: true }, file);
  const rest = instructions - (await compilerInstructions(file));
  perJob.push(instructions);
  withoutCompiler.push(rest);
  console.log(
    `run ${run}: ${perJobText(instructions)} instructions per job, ${perJobText(rest)} without the optimizing compiler ` +
      `(${result.loopTurns} event-loop turns) — ${relative(process.cwd(), file)}`,
  );
}
console.log(
  `drain ${jobs.toLocaleString("en-US")} jobs, concurrency ${concurrency}, medians: ${perJobText(median(perJob))} instructions per job, ` +
    `${perJobText(median(withoutCompiler))} without the optimizing compiler`,
);
