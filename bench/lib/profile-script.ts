/**
 * What the comparison benchmarks' profile scripts (postgres/profile.ts, redis/profile.ts)
 * share: their command line, the scenario they build from it, the child's profile path, and
 * the printout (rate or latency, CPU and wall time per job, Errand's adapter calls, the CPU
 * profile summary). Each script brings its child and what its store costs.
 */
import { mkdir, readFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join, relative } from "node:path";

import type { Tuning } from "./compare.js";
import { adapterCallsTable, BENCH_DIR, summarize, type CpuProfile, type ProfileParams } from "./profile.js";
import type { Scenario, ScenarioMeasurement } from "./scenarios.js";
import { formatNumber } from "./stats.js";

/** What a profile script asks its benchmark's child to measure (the child adds where the store is). */
export interface ProfileRequest<L extends string> extends ProfileParams {
  library: L;
  scenario: Scenario;
  tuning: Tuning;
  /** True for Errand: its adapter calls are logged. */
  adapterCalls: boolean;
}

/** A benchmark's side of its profile script. */
export interface ProfileScript<L extends string, M extends ScenarioMeasurement> {
  /** The .cpuprofile's name starts with it (`pg`, `redis`). */
  tag: string;
  /** Runs the measurement in the benchmark's child; `execArgv` goes to node. */
  measure(request: ProfileRequest<L>, execArgv: string[]): Promise<M>;
  /** What the store cost per job, printed on the CPU line after this process's CPU (the server's CPU, WAL, bytes stored, …). */
  storeCosts(result: M): string;
  /** Printed after the CPU and wall-time lines, before the adapter calls (e.g. the server's commands); `jobs` is the number done. */
  details?(result: M, jobs: number): void;
}

function option(argv: string[], name: string, fallback: string): string {
  const index = argv.indexOf(name);
  return index >= 0 && argv[index + 1] !== undefined ? argv[index + 1]! : fallback;
}

/**
 * Reads `argv` (`--library` [errand], `--scenario` drain | bulk | sequential | inflight |
 * latency, `--concurrency` [10], `--jobs`, `--tune JSON`, `--cpu`, `--no-inline`), runs the
 * measurement through `script.measure` and prints it. With `--cpu` the timed part is
 * profiled into bench/results/profiles/ and the profile's summary printed.
 */
export async function runProfileScript<L extends string, M extends ScenarioMeasurement>(argv: string[], script: ProfileScript<L, M>): Promise<void> {
  const library = option(argv, "--library", "errand") as L;
  const kind = option(argv, "--scenario", "drain");
  const concurrency = Number(option(argv, "--concurrency", "10"));
  const jobs = Number(option(argv, "--jobs", kind === "drain" || kind === "bulk" ? "20000" : "5000"));
  const tuning = JSON.parse(option(argv, "--tune", "{}")) as Tuning;
  const cpu = argv.includes("--cpu");
  const inline = argv.includes("--no-inline") ? "-noinline" : "";

  const scenarios: Record<string, Scenario> = {
    drain: { kind: "drain", count: jobs, concurrency, warmup: 1_000, capMs: 30_000 },
    bulk: { kind: "bulk", count: jobs, warmup: 1_000 },
    sequential: { kind: "sequential", count: jobs, warmup: 200 },
    inflight: { kind: "inflight", count: jobs, lanes: 32, warmup: 200 },
    latency: { kind: "latency", count: 500, concurrency, warmup: 50, capMs: 30_000 },
  };
  const scenario = scenarios[kind];
  if (!scenario) throw new Error(`--scenario must be one of ${Object.keys(scenarios).join(", ")}`);

  const request: ProfileRequest<L> = { library, scenario, tuning, adapterCalls: library === "errand" };
  let path: string | undefined;
  if (cpu) {
    const dir = join(BENCH_DIR, "results", "profiles");
    await mkdir(dir, { recursive: true });
    path = join(dir, `${script.tag}-${library}-${kind}-c${concurrency}${inline}-${new Date().toISOString().replace(/[:.]/g, "-")}.cpuprofile`);
    request.profile = path;
    request.profileIntervalUs = 200;
  }
  const result = await script.measure(request, inline ? ["--no-turbo-inlining"] : []);

  const label = kind === "drain" || kind === "latency" ? `${kind}, concurrency ${concurrency}` : kind;
  const count = scenario.kind === "latency" ? `${scenario.count} jobs (or ${scenario.capMs / 1000} s)` : `${jobs.toLocaleString("en-US")} jobs`;
  console.log(`${library}: ${label}, ${count}${cpu ? " (under the profiler)" : ""}`);
  if (kind === "latency") {
    console.log(`p50 ${result.p50!.toFixed(2)} ms, p95 ${result.p95!.toFixed(2)} ms, p99 ${result.p99!.toFixed(2)} ms, max ${result.max!.toFixed(2)} ms (${result.samples} samples)`);
  } else {
    console.log(`${formatNumber(result.value)} jobs/s${result.capped ? " (capped)" : ""} in ${result.ms.toFixed(0)} ms`);
  }
  const done = result.jobsDone ?? jobs;
  if (result.nodeCpuUsPerJob !== undefined) {
    const rss = result.peakRssMb === undefined ? "" : `; peak RSS ${result.peakRssMb.toFixed(0)} MB`;
    console.log(`CPU per job: this process ${result.nodeCpuUsPerJob.toFixed(1)} µs, ${script.storeCosts(result)}${rss}`);
    const perJob = (result.ms * 1000) / done;
    console.log(`wall time per job: ${perJob.toFixed(1)} µs (× ${cpus().length} cores: ${(cpus().length * perJob).toFixed(1)} core-µs)`);
  }
  script.details?.(result, done);
  if (result.adapterCalls) {
    console.log("\n## adapter calls during the timed part\n");
    console.log("(reserve counts the jobs asked for, the other operations the jobs carried)\n");
    console.log(adapterCallsTable(result.adapterCalls));
  }
  if (path) {
    console.log(`\nprofile: ${relative(process.cwd(), path)}\n`);
    console.log(summarize(JSON.parse(await readFile(path, "utf8")) as CpuProfile));
  }
}
