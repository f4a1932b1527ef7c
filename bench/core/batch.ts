/**
 * What a batch adds to a drain on the in-memory async adapter (issue 17's goal: under 20 %):
 * N no-op jobs enqueued as one `batch(jobs, { onComplete })` against N plain ones
 * (`performAllLater` in thousands), through the drain scenario of run.ts (a warm-up drain on
 * a throwaway runtime, then timed from `worker.start()` until every settlement is written;
 * the batch side also waits for its callback job).
 *
 *   npx tsc -b bench && node bench/dist/core/batch.js [--jobs 100000] [--concurrency 10] [--runs 5] [--instructions 1]
 *
 * Each (run, side) is a fresh child; the two sides take turns, in the other order every
 * other run (../lib/batch-sides.ts), so a slow moment of the shared machine does not land on one side only. Prints
 * the medians of the rate and of the child's CPU per job, and what the batch adds (plain
 * rate ÷ batch rate − 1). `--instructions N` also counts N runs of each side under callgrind
 * (callgrind.ts, as instructions.ts does): instructions per job do not move with the load.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";

import { alternate, percentOver, SIDES, type Side } from "../lib/batch-sides.js";
import { BENCH_DIR } from "../lib/profile.js";
import { median } from "../lib/stats.js";
import { compilerInstructions } from "../lib/machine.js";
import { countOnce } from "./callgrind.js";
import { inChild } from "./child.js";
import type { DrainParams, DrainResult } from "./scenarios.js";

const USAGE = "usage: node bench/dist/core/batch.js [--jobs 100000] [--concurrency 10] [--runs 5] [--instructions 0]";
const options = { jobs: 100_000, concurrency: 10, runs: 5, instructions: 0 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i]!.replace(/^--/, "");
  if (!argv[i]!.startsWith("--") || !(key in options)) throw new Error(`unknown option ${argv[i]}; ${USAGE}`);
  const value = Number(argv[i + 1]);
  if (!Number.isInteger(value) || value < (key === "instructions" ? 0 : 1)) throw new Error(`${argv[i]}: ${JSON.stringify(argv[i + 1])} is not a valid count; ${USAGE}`);
  options[key as keyof typeof options] = value;
}
const { jobs, concurrency, runs, instructions } = options;

const params = (side: Side): DrainParams => ({ jobs, concurrency, ...(side === "batch" ? { batch: true } : {}) });

const measured = await alternate(runs, async (side, run) => {
  const result = await inChild<DrainResult>("drain", params(side));
  process.stderr.write(`run ${run + 1}/${runs} ${side}: ${Math.round(result.rate)} jobs/s, CPU ${((result.cpuMs * 1000) / jobs).toFixed(2)} µs/job\n`);
  return result;
});
const rate = (side: Side) => median(measured[side].map((m) => m.rate));
const cpu = (side: Side) => median(measured[side].map((m) => (m.cpuMs * 1000) / jobs));

console.log(`\nDrain of ${jobs.toLocaleString("en-US")} no-op jobs on the async adapter, concurrency ${concurrency}: one batch vs plain (medians of ${runs} alternating runs)\n`);
console.log("| side | jobs/s | CPU µs/job | batch adds (time) | batch adds (CPU) |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const side of SIDES) {
  const adds = side === "batch" ? [percentOver(rate("plain"), rate("batch")), percentOver(cpu("batch"), cpu("plain"))] : ["", ""];
  console.log(`| ${side} | ${Math.round(rate(side)).toLocaleString("en-US")} | ${cpu(side).toFixed(2)} | ${adds[0]} | ${adds[1]} |`);
}

if (instructions > 0) {
  const dir = join(BENCH_DIR, "results", "profiles");
  await mkdir(dir, { recursive: true });
  const counted: Record<Side, { all: number[]; rest: number[] }> = { plain: { all: [], rest: [] }, batch: { all: [], rest: [] } };
  for (let run = 0; run < instructions; run++) {
    for (const side of SIDES) {
      const file = join(dir, `batch-${side}-c${concurrency}-${new Date().toISOString().replace(/[:.]/g, "-")}.callgrind`);
      const { instructions: all } = await countOnce({ ...params(side), callgrind: true }, file);
      const rest = all - (await compilerInstructions(file));
      counted[side].all.push(all / jobs);
      counted[side].rest.push(rest / jobs);
      process.stderr.write(`callgrind run ${run + 1}/${instructions} ${side}: ${Math.round(all / jobs)} instructions per job, ${Math.round(rest / jobs)} without the optimizing compiler\n`);
    }
  }
  const per = (side: Side, key: "all" | "rest") => median(counted[side][key]);
  const adds = (key: "all" | "rest") => percentOver(per("batch", key), per("plain", key));
  console.log(`\nInstructions per job under callgrind (timed part; medians of ${instructions}):\n`);
  console.log("| | plain | batch | batch adds |");
  console.log("| --- | ---: | ---: | ---: |");
  console.log(`| with V8's optimizing compiler | ${Math.round(per("plain", "all")).toLocaleString("en-US")} | ${Math.round(per("batch", "all")).toLocaleString("en-US")} | ${adds("all")} |`);
  console.log(`| without | ${Math.round(per("plain", "rest")).toLocaleString("en-US")} | ${Math.round(per("batch", "rest")).toLocaleString("en-US")} | ${adds("rest")} |`);
}
