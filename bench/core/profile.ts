/**
 * Where the drain's time goes. Runs the drain scenario once in a child process with the
 * V8 sampling profiler on for the timed part only (worker start → last job complete),
 * writes the .cpuprofile (open it in Chrome DevTools → Performance, or speedscope.app)
 * and prints the top costs:
 *
 *   npx tsc -b bench && node bench/dist/core/profile.js [--concurrency 10] [--jobs 100000] [--no-inline] [--batch]
 *   node bench/dist/core/profile.js --scenario enqueue [--mode sequential|inflight|bulk] [--jobs 50000]
 *   node bench/dist/core/profile.js --summarize bench/results/profiles/<file>.cpuprofile
 *
 * `--no-inline` runs V8 without inlining: slower, but a cost is charged to the function that
 * has it instead of the caller it was inlined into. Positions are mapped back to the
 * TypeScript sources through the packages' source maps. `--batch` drains jobs enqueued as one
 * `batch()` (batch.ts's batch side).
 *
 * Self time is time spent in a function's own code; total time includes what it calls
 * (counted once per sample even when the function recurses).
 */
import { mkdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";

import { BENCH_DIR, summarize, type CpuProfile } from "../lib/profile.js";
import { inChild } from "./child.js";

export { summarize } from "../lib/profile.js";

function option(argv: string[], name: string, fallback: string): string {
  const index = argv.indexOf(name);
  return index >= 0 && argv[index + 1] !== undefined ? argv[index + 1]! : fallback;
}

const argv = process.argv.slice(2);
const file = option(argv, "--summarize", "");
if (file) {
  console.log(summarize(JSON.parse(await readFile(file, "utf8")) as CpuProfile));
} else {
  const scenario = option(argv, "--scenario", "drain");
  const concurrency = Number(option(argv, "--concurrency", "10"));
  const mode = option(argv, "--mode", "sequential");
  const jobs = Number(option(argv, "--jobs", scenario === "drain" ? "100000" : "50000"));
  const interval = Number(option(argv, "--interval", "200"));
  const dir = join(BENCH_DIR, "results", "profiles");
  await mkdir(dir, { recursive: true });
  const label = scenario === "drain" ? `drain${argv.includes("--batch") ? "-batch" : ""}-c${concurrency}` : `enqueue-${mode}`;
  const inline = argv.includes("--no-inline") ? "-noinline" : "";
  const path = join(dir, `${label}${inline}-${new Date().toISOString().replace(/[:.]/g, "-")}.cpuprofile`);
  const execArgv = inline ? ["--no-turbo-inlining"] : [];
  const profile = { profile: path, profileIntervalUs: interval };
  let result: { rate: number };
  if (scenario === "drain") result = await inChild("drain", { concurrency, jobs, ...(argv.includes("--batch") ? { batch: true } : {}), ...profile }, execArgv);
  else if (scenario === "enqueue") result = await inChild("enqueue", { mode, jobs, inFlight: 32, batch: 1000, ...profile }, execArgv);
  else throw new Error(`--scenario must be drain or enqueue, got ${scenario}`);
  console.log(`${label}${inline}, ${jobs.toLocaleString("en-US")} jobs: ${Math.round(result.rate).toLocaleString("en-US")} jobs/s under the profiler`);
  console.log(`profile: ${relative(process.cwd(), path)}\n`);
  console.log(summarize(JSON.parse(await readFile(path, "utf8")) as CpuProfile));
}
