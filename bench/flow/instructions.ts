/**
 * Instructions per job of each flow variant on the in-process backend (async), counted by
 * valgrind's callgrind for the timed part only, as core/instructions.ts does for the core
 * drain (same V8 flags: single-threaded, fixed GC schedule, a 1 GB old space so no full GC
 * falls inside). Wall-clock ratios on the shared 2-core machine move by 15 % and more;
 * these do not, so they say what a variant costs the process:
 *
 *   npx tsc -b bench && node bench/dist/flow/instructions.js                 # drain 20k, c = 10: plain unique concurrency rate; bulk 20k: plain unique
 *   node bench/dist/flow/instructions.js --jobs 50000 --concurrency 50
 *
 * Prints instructions per job with and without V8's optimizing compiler (a background
 * thread outside valgrind) per variant, and the ratio to plain. Each run's `.callgrind`
 * file stays in results/profiles/ (`callgrind_annotate --inclusive=no <file>`).
 */
import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { BENCH_DIR } from "../lib/profile.js";
import type { Scenario } from "../lib/scenarios.js";
import type { Variant } from "./libraries.js";
import { childParams } from "./run.js";
import { compilerInstructions } from "../lib/machine.js";

const RUN = join(dirname(fileURLToPath(import.meta.url)), "run.js");
const V8_FLAGS = ["--expose-gc", "--single-threaded", "--predictable-gc-schedule", "--no-incremental-marking", "--initial-old-space-size=1024"];


/** One measurement under callgrind; the instructions of its timed part. */
function count(variant: Variant, scenario: Scenario, file: string): Promise<number> {
  const params = { ...childParams("async", variant, scenario), callgrind: true };
  return new Promise((resolve, reject) => {
    const child = spawn(
      "valgrind",
      ["--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${file}`, process.execPath, ...V8_FLAGS, RUN, "--child", JSON.stringify(params)],
      { stdio: ["ignore", "inherit", "pipe", "ipc"] },
    );
    let stderr = "";
    let replied = false;
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("message", () => (replied = true));
    child.on("error", (error) => reject(new Error(`cannot start valgrind (apt-get install valgrind): ${error.message}`)));
    child.on("exit", (code) => {
      const collected = /Collected : (\d+)/.exec(stderr);
      if (code !== 0 || !replied || !collected) reject(new Error(`${variant} under callgrind failed (exit ${code}):\n${stderr.split("\n").slice(-20).join("\n")}`));
      else resolve(Number(collected[1]));
    });
  });
}

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  return index < 0 ? fallback : Number(process.argv[index + 1]);
}
const jobs = option("--jobs", 20_000);
const concurrency = option("--concurrency", 10);
const dir = join(BENCH_DIR, "results", "profiles");
await mkdir(dir, { recursive: true });

const plans: { what: string; scenario: Scenario; variants: Variant[] }[] = [
  { what: `drain ${jobs}, c = ${concurrency}`, scenario: { kind: "drain", count: jobs, concurrency, warmup: 1_000, capMs: 600_000 }, variants: ["plain", "unique", "concurrency", "rate"] },
  { what: `bulk enqueue ${jobs}`, scenario: { kind: "bulk", count: jobs, warmup: 1_000 }, variants: ["plain", "unique"] },
];
console.log("| figure | variant | instructions per job | without the optimizing compiler | ÷ plain (without) |");
console.log("| --- | --- | ---: | ---: | ---: |");
for (const { what, scenario, variants } of plans) {
  let plain: number | undefined;
  for (const variant of variants) {
    const file = join(dir, `flow-async-${variant}-${scenario.kind}-${new Date().toISOString().replace(/[:.]/g, "-")}.callgrind`);
    const all = await count(variant, scenario, file);
    const rest = all - (await compilerInstructions(file));
    plain ??= rest;
    const fmt = (n: number) => Math.round(n / jobs).toLocaleString("en-US");
    console.log(`| ${what} | ${variant} | ${fmt(all)} | ${fmt(rest)} | ${(rest / plain).toFixed(3)} |`);
  }
}
