/**
 * Where a flow variant's time goes: runs one drain (or bulk enqueue) per variant on one
 * backend, each in a fresh child, and prints side by side per job: the rate, CPU of the
 * process and of the server, Errand's adapter calls, and the Redis commands (INFO
 * commandstats, scripts' commands included; Redis and SQS's status store) or the PostgreSQL
 * statements the process sent. With `--cpu`, a V8 CPU profile of each timed part
 * (bench/results/profiles/) and its summary.
 *
 *   npx tsc -b bench && node bench/dist/flow/profile.js --backend redis             # drain 20k, c = 10, plain unique concurrency rate
 *   node bench/dist/flow/profile.js --backend postgres --scenario bulk --variants plain,unique
 *   node bench/dist/flow/profile.js --backend sqs --jobs 5000 --cpu
 *   node bench/dist/flow/profile.js --backend redis --variants bullmq,bullmq-dedup,bullmq-limiter
 *   node bench/dist/flow/profile.js --backend redis --variants concurrency,rate --keys 10   # limits over 10 keys, not 1,000
 *
 * The servers are shared: their CPU and command counts include whatever else ran meanwhile.
 * For the in-process backend (async) count instructions instead: instructions.js.
 */
import { mkdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";

import { BENCH_DIR, summarize, type CpuProfile } from "../lib/profile.js";
import type { Scenario } from "../lib/scenarios.js";
import { formatNumber } from "../lib/stats.js";
import { openSqs } from "../sqs/store.js";
import { BACKENDS, BULL_VARIANTS, ERRAND_VARIANTS, type Backend, type Variant } from "./libraries.js";
import { childParams, inChild } from "./run.js";
import type { Measurement } from "./scenarios.js";

function option(argv: string[], name: string, fallback: string): string {
  const index = argv.indexOf(name);
  return index >= 0 && argv[index + 1] !== undefined ? argv[index + 1]! : fallback;
}

const argv = process.argv.slice(2);
const backend = option(argv, "--backend", "redis") as Backend;
if (!BACKENDS.includes(backend)) throw new Error(`--backend: one of ${BACKENDS.join(", ")}`);
const kind = option(argv, "--scenario", "drain");
const jobs = Number(option(argv, "--jobs", backend === "sqs" ? "5000" : "20000"));
const concurrency = Number(option(argv, "--concurrency", "10"));
const variants = option(argv, "--variants", kind === "drain" ? ERRAND_VARIANTS.join(",") : "plain,unique").split(",") as Variant[];
for (const v of variants) if (![...ERRAND_VARIANTS, ...BULL_VARIANTS].includes(v)) throw new Error(`unknown variant ${v}`);
const cpu = argv.includes("--cpu");
// The children read it (libraries.ts): the limits' keys, 1,000 unless given.
if (argv.includes("--keys")) process.env.ERRAND_BENCH_FLOW_KEYS = option(argv, "--keys", "");
const scenario: Scenario = kind === "drain" ? { kind: "drain", count: jobs, concurrency, warmup: 1_000, capMs: 60_000 } : { kind: "bulk", count: jobs, warmup: 1_000 };

const sqs = backend === "sqs" ? await openSqs() : undefined;
const results = new Map<Variant, Measurement>();
const profiles = new Map<Variant, string>();
try {
  for (const variant of variants) {
    const params = { ...childParams(backend, variant, scenario, sqs), details: true, adapterCalls: !variant.startsWith("bullmq") };
    if (cpu) {
      const dir = join(BENCH_DIR, "results", "profiles");
      await mkdir(dir, { recursive: true });
      const path = join(dir, `flow-${backend}-${variant}-${kind}-${new Date().toISOString().replace(/[:.]/g, "-")}.cpuprofile`);
      Object.assign(params, { profile: path, profileIntervalUs: 200 });
      profiles.set(variant, path);
    }
    results.set(variant, await inChild(params));
    process.stderr.write(`  ${variant}: ${formatNumber(results.get(variant)!.value)} jobs/s\n`);
  }
} finally {
  await sqs?.stop();
}

const done = (m: Measurement) => m.jobsDone ?? jobs;
const row = (label: string, read: (m: Measurement) => number | undefined, digits = 1) =>
  `| ${label} | ${variants.map((v) => {
    const value = read(results.get(v)!);
    return value === undefined ? "–" : formatNumber(value, digits);
  }).join(" | ")} |`;
console.log(`\n${backend}: ${kind === "drain" ? `drain, concurrency ${concurrency}` : "bulk enqueue"}, ${jobs.toLocaleString("en-US")} jobs, ${process.env.ERRAND_BENCH_FLOW_KEYS ?? "1000"} flow keys${cpu ? " (under the profiler)" : ""}\n`);
console.log(`| per job | ${variants.join(" | ")} |`);
console.log(`| --- | ${variants.map(() => "---:").join(" | ")} |`);
console.log(row("jobs/s", (m) => m.value));
console.log(row("CPU µs, this process", (m) => m.nodeCpuUsPerJob));
console.log(row("CPU µs, server", (m) => m.serverCpuUsPerJob));
if (backend === "sqs") console.log(row("CPU µs, SQS emulator", (m) => m.emulatorCpuUsPerJob));
console.log(row("wall µs", (m) => (m.ms * 1000) / done(m)));

// Adapter calls: calls per 1,000 jobs and ms per job of each operation.
const operations = [...new Set(variants.flatMap((v) => Object.keys(results.get(v)!.adapterCalls ?? {})))].sort();
for (const op of operations) {
  console.log(row(`adapter ${op}: calls per 1k jobs`, (m) => (m.adapterCalls?.[op] ? (m.adapterCalls[op].calls * 1000) / done(m) : undefined), 2));
  console.log(row(`adapter ${op}: µs per job (sum of call times)`, (m) => (m.adapterCalls?.[op] ? (m.adapterCalls[op].totalMs * 1000) / done(m) : undefined), 1));
}

// Redis: commands per job and server µs per job of each; PostgreSQL: statements per 1,000 jobs.
const commands = [...new Set(variants.flatMap((v) => Object.keys(results.get(v)!.serverCommands ?? {})))];
for (const command of commands.sort()) {
  console.log(row(`redis ${command}: calls per job`, (m) => (m.serverCommands?.[command] ? m.serverCommands[command].calls / done(m) : undefined), 3));
  console.log(row(`redis ${command}: server µs per job`, (m) => (m.serverCommands?.[command] ? m.serverCommands[command].usec / done(m) : undefined), 2));
}
const statements = [...new Set(variants.flatMap((v) => Object.keys(results.get(v)!.statements ?? {})))];
for (const text of statements.sort()) {
  console.log(row(`\`${text.replace(/\|/g, "\\|")}\` per 1k jobs`, (m) => (m.statements?.[text] ? (m.statements[text] * 1000) / done(m) : undefined), 2));
}
for (const [variant, path] of profiles) {
  console.log(`\n## ${variant}: ${relative(process.cwd(), path)}\n`);
  console.log(summarize(JSON.parse(await readFile(path, "utf8")) as CpuProfile));
}
