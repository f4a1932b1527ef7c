/**
 * Where a Redis measurement's time goes: runs one measurement in a child, then prints the
 * rate, CPU per job in this process and in redis-server, the commands the server ran
 * (INFO commandstats, scripts' commands included), every adapter call Errand made during
 * the timed part and, with `--cpu`, a V8 CPU profile summary of the timed part.
 *
 *   npx tsc -b bench && node bench/dist/redis/profile.js                        # Errand, drain 20k, concurrency 10
 *   node bench/dist/redis/profile.js --concurrency 50 --cpu [--no-inline]
 *   node bench/dist/redis/profile.js --library bullmq --concurrency 10          # the peer, for comparison (no call log)
 *   node bench/dist/redis/profile.js --scenario sequential                      # bulk | sequential | inflight | latency
 *   node bench/dist/redis/profile.js --library bullmq --tune '{"autoPipelining":true}'
 *
 * The server is shared: its CPU and command counts include whatever else ran meanwhile.
 * The .cpuprofile goes to bench/results/profiles/ (open it in Chrome DevTools or speedscope).
 */
import { mkdir, readFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join, relative } from "node:path";

import { adapterCallsTable, BENCH_DIR, summarize, type CpuProfile } from "../lib/profile.js";
import type { Scenario } from "../lib/scenarios.js";
import { formatNumber } from "../lib/stats.js";
import type { LibraryName, Tuning } from "./libraries.js";
import { inChild } from "./run.js";
import type { ChildParams } from "./scenarios.js";
import { REDIS_URL } from "./store.js";

function option(argv: string[], name: string, fallback: string): string {
  const index = argv.indexOf(name);
  return index >= 0 && argv[index + 1] !== undefined ? argv[index + 1]! : fallback;
}

const argv = process.argv.slice(2);
const library = option(argv, "--library", "errand") as LibraryName;
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

const params: Omit<ChildParams, "prefix"> = { library, scenario, url: REDIS_URL, tuning, adapterCalls: library === "errand", commandStats: true };
let path: string | undefined;
if (cpu) {
  const dir = join(BENCH_DIR, "results", "profiles");
  await mkdir(dir, { recursive: true });
  path = join(dir, `redis-${library}-${kind}-c${concurrency}${inline}-${new Date().toISOString().replace(/[:.]/g, "-")}.cpuprofile`);
  params.profile = path;
  params.profileIntervalUs = 200;
}
const result = await inChild(params, inline ? ["--no-turbo-inlining"] : []);

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
  const stored =
    result.storedBytesPerJob !== undefined
      ? `; stored ${formatNumber(result.storedBytesPerJob)} bytes per job`
      : result.keptBytesPerJob !== undefined
        ? `; kept after the drain ${formatNumber(result.keptBytesPerJob)} bytes per job`
        : "";
  const rss = result.peakRssMb === undefined ? "" : `; peak RSS ${result.peakRssMb.toFixed(0)} MB`;
  console.log(`CPU per job: this process ${result.nodeCpuUsPerJob.toFixed(1)} µs, redis-server ${result.redisCpuUsPerJob?.toFixed(1) ?? "n/a"} µs${stored}${rss}`);
  const perJob = (result.ms * 1000) / done;
  console.log(`wall time per job: ${perJob.toFixed(1)} µs (× ${cpus().length} cores: ${(cpus().length * perJob).toFixed(1)} core-µs)`);
}
if (result.serverCommands) {
  console.log("\n## server commands during the timed part (whole server)\n");
  console.log("| command | calls | per job | µs | µs per job |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const [command, s] of Object.entries(result.serverCommands).slice(0, 25)) {
    console.log(`| ${command} | ${s.calls} | ${(s.calls / done).toFixed(2)} | ${s.usec} | ${(s.usec / done).toFixed(2)} |`);
  }
}
if (result.adapterCalls) {
  console.log("\n## adapter calls during the timed part\n");
  console.log("(reserve counts the jobs asked for, the other operations the jobs carried)\n");
  console.log(adapterCallsTable(result.adapterCalls));
}
if (path) {
  console.log(`\nprofile: ${relative(process.cwd(), path)}\n`);
  console.log(summarize(JSON.parse(await readFile(path, "utf8")) as CpuProfile));
}
