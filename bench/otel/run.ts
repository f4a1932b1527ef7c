/**
 * What `@errand/opentelemetry` costs: a bulk enqueue (`performAllLater`, 1,000 a call) and
 * a drain (concurrency 50) of no-op jobs on the async adapter, with no instrumentation,
 * with the package registered but no SDK, and with the SDK tracing every job.
 *
 *   npx tsc -b bench && node bench/dist/otel/run.js [--jobs 20000] [--runs 3] [--callgrind] [--setups none,noop,sdk]
 *
 * Jobs/s are medians of `--runs` fresh child processes per cell; on a shared machine they
 * move with the neighbours' load, printed before and after. `--callgrind` also counts
 * instructions per job of each cell's timed part once under valgrind (as
 * bench/core/instructions.ts does; the V8 flags are the same), a figure the load does not
 * move. Writes bench/results/otel-latest.json.
 */
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { reply, runChild } from "../lib/child.js";
import { compilerInstructions, machineFacts } from "../lib/machine.js";
import { BENCH_DIR } from "../lib/profile.js";
import { median } from "../lib/stats.js";
import type { OtelParams, OtelResult, Setup } from "./scenarios.js";

const SELF = fileURLToPath(import.meta.url);
const V8_FLAGS = ["--expose-gc", "--single-threaded", "--predictable-gc-schedule", "--no-incremental-marking", "--initial-old-space-size=1024"];
const SETUPS: Setup[] = ["none", "noop", "sdk"];
const SCENARIOS = ["enqueue", "drain"] as const;

if (process.argv[2] === "--child") {
  const { runScenario } = await import("./scenarios.js");
  await reply(await runScenario(JSON.parse(process.argv[3]!) as OtelParams));
}

/** Instructions of one cell's timed part under callgrind. */
function countInstructions(params: OtelParams, file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn("valgrind", ["--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${file}`, process.execPath, ...V8_FLAGS, SELF, "--child", JSON.stringify({ ...params, callgrind: true })], {
      stdio: ["ignore", "inherit", "pipe", "ipc"],
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (error) => reject(new Error(`cannot start valgrind (apt-get install valgrind): ${error.message}`)));
    child.on("exit", (code) => {
      const collected = /Collected : (\d+)/.exec(stderr);
      if (code !== 0 || !collected) reject(new Error(`callgrind run failed (exit ${code}):\n${stderr.split("\n").slice(-20).join("\n")}`));
      else resolve(Number(collected[1]));
    });
  });
}

function parseArgs(argv: string[]) {
  const options = { jobs: 20_000, runs: 3, callgrind: false, setups: SETUPS };
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === "--callgrind") options.callgrind = true;
    else if (arg === "--setups") {
      const setups = (argv[++index] ?? "").split(",");
      const unknown = setups.find((setup) => !SETUPS.includes(setup as Setup));
      if (unknown !== undefined) throw new Error(`--setups: unknown setup "${unknown}" (known: ${SETUPS.join(", ")})`);
      options.setups = setups as Setup[];
    }
    else if (arg === "--jobs" || arg === "--runs") {
      const value = Number(argv[++index]);
      if (!Number.isInteger(value) || value < 1) throw new Error(`${arg} must be an integer >= 1, got ${argv[index]}`);
      options[arg === "--jobs" ? "jobs" : "runs"] = value;
    } else throw new Error(`unknown option ${arg}; usage: run.js [--jobs 20000] [--runs 3] [--callgrind] [--setups none,noop,sdk]`);
  }
  return options;
}

const options = parseArgs(process.argv.slice(2));
const loadBefore = loadavg().map((value) => value.toFixed(2));
const profiles = join(BENCH_DIR, "results", "profiles");
await mkdir(profiles, { recursive: true });
const rows: { scenario: string; setup: Setup; rate: number; runs: number[]; instructionsPerJob?: number; withoutCompilerPerJob?: number }[] = [];
for (const scenario of SCENARIOS) {
  for (const setup of options.setups) {
    const params: OtelParams = { setup, scenario, jobs: options.jobs, concurrency: 50 };
    const runs: number[] = [];
    for (let run = 0; run < options.runs; run++) {
      runs.push((await runChild<OtelResult>(SELF, ["--child", JSON.stringify(params)], [], `${scenario} ${setup}`)).rate);
    }
    const row: (typeof rows)[number] = { scenario, setup, rate: median(runs), runs };
    if (options.callgrind) {
      const file = join(profiles, `otel-${scenario}-${setup}-${new Date().toISOString().replace(/[:.]/g, "-")}.callgrind`);
      const instructions = await countInstructions(params, file);
      row.instructionsPerJob = Math.round(instructions / options.jobs);
      row.withoutCompilerPerJob = Math.round((instructions - (await compilerInstructions(file))) / options.jobs);
    }
    rows.push(row);
    console.error(`${scenario} ${setup}: ${Math.round(row.rate)} jobs/s${row.instructionsPerJob ? `, ${row.instructionsPerJob} instructions per job` : ""}`);
  }
}
const loadAfter = loadavg().map((value) => value.toFixed(2));
const format = (value: number | undefined) => (value === undefined ? "–" : Math.round(value).toLocaleString("en-US"));
console.log(`${options.jobs.toLocaleString("en-US")} jobs, ${options.runs} runs per cell; load average (1, 5, 15 min) before ${loadBefore.join(" ")}, after ${loadAfter.join(" ")}\n`);
console.log("| scenario | setup | jobs/s (median) | instructions per job | without the optimizing compiler |");
console.log("| --- | --- | ---: | ---: | ---: |");
for (const row of rows) console.log(`| ${row.scenario} | ${row.setup} | ${format(row.rate)} | ${format(row.instructionsPerJob)} | ${format(row.withoutCompilerPerJob)} |`);
const results = join(BENCH_DIR, "results", "otel-latest.json");
await mkdir(dirname(results), { recursive: true });
await writeFile(results, `${JSON.stringify({ machine: machineFacts(), load: { before: loadBefore, after: loadAfter }, options, rows }, null, 2)}\n`);
