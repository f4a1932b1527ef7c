/**
 * The realtime bench: job status pushed to browsers over Server-Sent Events, measured on
 * Redis with one server process serving every stream (issue 12, "Performance").
 *
 *   npm run bench:realtime                                # every scenario, ~3 min
 *   node bench/dist/realtime/run.js --only streams1k      # streams1k | streams10k | shared1k
 *   node bench/dist/realtime/run.js --rounds 5 --poll-s 5 # shorter
 *   node bench/dist/realtime/run.js --runs 3 --calm 20    # medians of 3, each run once the machine's CPU pressure is < 20 %
 *   node bench/dist/realtime/run.js --only streams1k --profile    # server CPU profiles of the rounds and the polling
 *   node bench/dist/realtime/run.js --only streams1k --cpu-prof   # the server's whole life
 *   node bench/dist/realtime/run.js --only streams1k --heap-snapshot
 *
 * Each scenario runs in fresh processes (scenario.ts): server, worker, clients. Prints a
 * markdown table (one column per scenario) and the goals, and writes
 * bench/results/realtime-latest.json (any option but `--runs` and `--calm`: realtime-latest.partial.json).
 * Uses REDIS_URL, else redis://127.0.0.1:6379; keys go under a fresh prefix per scenario
 * and are deleted at its end.
 */
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { median } from "../lib/stats.js";
import { runScenario, type ScenarioOptions, type ScenarioResult, type ScenarioSpec } from "./scenario.js";
import { machineFacts } from "../lib/machine.js";

const SELF = fileURLToPath(import.meta.url);
const BENCH_DIR = resolve(dirname(SELF), "..", "..");
const RESULTS = join(BENCH_DIR, "results", "realtime-latest.json");
const PROFILES = join(BENCH_DIR, "results", "profiles");

/**
 * The streams of issue 12. Events are offered at 1,000 a second in each: 10,000 own jobs
 * report every 10 s. At one report a second each (10,000 events/s) this machine only
 * queued: 53 % of the events got through (the rest coalesced, latest wins), p50 2 s, with
 * the server, Redis, the worker and both clients on 2 shared cores.
 */
const SCENARIOS: ScenarioSpec[] = [
  { key: "streams1k", label: "1,000 streams, own jobs", streams: 1_000, jobs: 1_000, rounds: 15, roundMs: 1_000 },
  { key: "streams10k", label: "10,000 streams, own jobs", streams: 10_000, jobs: 10_000, rounds: 3, roundMs: 10_000 },
  { key: "shared1k", label: "1 job × 1,000 streams", streams: 1_000, jobs: 1, rounds: 15, roundMs: 1_000 },
];

/** The goals of issue 12. */
const GOAL_P99_MS = 50;
const GOAL_KB_PER_STREAM = 20;
/** "Back to baseline": what is left after every stream closed is at most this share of what the open streams took, or 1 MB. */
const BASELINE_SHARE = 0.05;
const BASELINE_FLOOR = 2 ** 20;

interface Options extends ScenarioOptions {
  runs: number;
  /** Before each run, wait (up to 15 min) until the machine's CPU pressure (PSI avg10) is below this %. */
  calm: number | undefined;
  only: string[] | undefined;
  partial: boolean;
}

const USAGE =
  "usage: node bench/dist/realtime/run.js [--only streams1k,streams10k,shared1k] [--runs N] [--rounds N] [--round-ms MS] [--poll-s S] [--heartbeat-ms MS] [--calm PERCENT] [--split] [--pin] [--profile] [--cpu-prof] [--heap-snapshot]";

function parseArgs(argv: string[]): Options {
  const options: Options = { runs: 1, only: undefined, partial: false, rounds: undefined, roundMs: undefined, pollMs: 10_000, heartbeatMs: 15_000, serverExecArgv: [], profileDir: undefined, heapSnapshot: false, split: false, pin: false, calm: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return next;
    };
    const count = (min: number) => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < min) throw new Error(`${arg} must be an integer >= ${min}, got ${argv[i]}`);
      return n;
    };
    // Only `--runs` and `--calm` leave the run a full one.
    if (!["--help", "-h", "--runs", "--calm"].includes(arg)) options.partial = true;
    if (arg === "--only") {
      options.only = value().split(",");
      const unknown = options.only.filter((key) => !SCENARIOS.some((s) => s.key === key));
      if (unknown.length > 0) throw new Error(`--only: unknown scenario ${unknown.join(", ")} (known: ${SCENARIOS.map((s) => s.key).join(", ")})`);
    } else if (arg === "--runs") options.runs = count(1);
    else if (arg === "--rounds") options.rounds = count(1);
    else if (arg === "--round-ms") options.roundMs = count(10);
    else if (arg === "--poll-s") options.pollMs = count(1) * 1_000;
    else if (arg === "--heartbeat-ms") options.heartbeatMs = count(100);
    else if (arg === "--cpu-prof") options.serverExecArgv = ["--cpu-prof", `--cpu-prof-dir=${PROFILES}`];
    else if (arg === "--profile") options.profileDir = PROFILES;
    else if (arg === "--heap-snapshot") options.heapSnapshot = true;
    else if (arg === "--split") options.split = true;
    else if (arg === "--pin") options.pin = true;
    else if (arg === "--calm") options.calm = count(1);
    else if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  return options;
}

/** One row of the table: how a figure is read from a scenario's result. */
interface Row {
  key: string;
  figure: string;
  unit: string;
  /** One figure, or several shown as "a / b". */
  read(result: ScenarioResult): number | readonly number[];
}

const KB = 1024;
const MB = 2 ** 20;
const perSecond = (count: number, ms: number) => (count * 1000) / ms;
const grown = (r: ScenarioResult, field: "heapExternal" | "rss") => r.memory.open[field] - r.memory.baseline[field];
const left = (r: ScenarioResult, field: "heapExternal" | "rss") => r.memory.closed[field] - r.memory.baseline[field];
const sseRequestsPerS = (r: ScenarioResult) => perSecond(r.sse.requests, r.sse.windowMs);
const pollRequestsPerS = (r: ScenarioResult) => perSecond(r.polling.requests, r.polling.elapsedMs);
/** What polling every page once a second would cost the server, ms of CPU per second, at the CPU per request measured. */
const pollCpuNeeded = (r: ScenarioResult) => (r.polling.cpuUs / Math.max(1, r.polling.requests) / 1000) * r.spec.streams;

const ROWS: Row[] = [
  { key: "offered", figure: "Recorded progress rounds / events per round / events offered per second", unit: "", read: (r) => [r.spec.rounds, r.spec.streams, (r.spec.streams * 1000) / r.spec.roundMs] },
  { key: "latency.p50", figure: "Delivery latency p50, `progress()` → event at the client", unit: "ms", read: (r) => r.latency.p50 },
  { key: "latency.p99", figure: "Delivery latency p99", unit: "ms", read: (r) => r.latency.p99 },
  { key: "latency.max", figure: "Delivery latency max", unit: "ms", read: (r) => r.latency.max },
  { key: "latency.toStore.p99", figure: "… of which `progress()` → stored in Redis (worker), p50 / p99", unit: "ms", read: (r) => [r.toStore.p50, r.toStore.p99] },
  { key: "latency.fromStore.p99", figure: "… of which stored → event at the client (server), p50 / p99", unit: "ms", read: (r) => [r.fromStore.p50, r.fromStore.p99] },
  { key: "latency.written", figure: "… `progress()` → written to the socket by the server (`--split`), p50 / p99", unit: "ms", read: (r) => (r.written ? [r.written.p50, r.written.p99] : [NaN, NaN]) },
  { key: "events", figure: "Progress events delivered (of expected)", unit: "%", read: (r) => (100 * r.events) / r.expectedEvents },
  { key: "memory.stream.heap", figure: "Server memory per idle stream, heap + external", unit: "KB", read: (r) => grown(r, "heapExternal") / r.spec.streams / KB },
  { key: "memory.stream.rss", figure: "Server memory per idle stream, RSS", unit: "KB", read: (r) => grown(r, "rss") / r.spec.streams / KB },
  { key: "memory.closed.heap", figure: "After every stream closed − baseline, heap + external", unit: "MB", read: (r) => left(r, "heapExternal") / MB },
  { key: "memory.closed.rss", figure: "After every stream closed − baseline, RSS", unit: "MB", read: (r) => left(r, "rss") / MB },
  { key: "cpu.event", figure: "Server CPU per delivered event", unit: "µs", read: (r) => r.sse.cpuUs / Math.max(1, r.events) },
  { key: "cpu.event.system", figure: "… of which in the kernel (system time)", unit: "µs", read: (r) => r.sse.systemUs / Math.max(1, r.events) },
  { key: "sse.cpu", figure: "SSE: server CPU", unit: "ms/s", read: (r) => r.sse.cpuUs / r.sse.windowMs },
  { key: "sse.cpu.others", figure: "SSE: CPU of the client processes / of redis-server", unit: "ms/s", read: (r) => [r.sse.clientCpuUs / r.sse.windowMs, r.sse.redisCpuUs / r.sse.windowMs] },
  { key: "sse.writes", figure: "SSE: events + heartbeats written", unit: "/s", read: (r) => perSecond(r.events + r.heartbeats, r.sse.windowMs) },
  { key: "sse.requests", figure: "SSE: requests", unit: "/s", read: sseRequestsPerS },
  { key: "poll.requests", figure: "Polling at 1 s: requests needed / served", unit: "/s", read: (r) => [r.spec.streams, pollRequestsPerS(r)] },
  { key: "poll.cpu", figure: "Polling at 1 s: server CPU", unit: "ms/s", read: (r) => r.polling.cpuUs / r.polling.elapsedMs },
  { key: "poll.cpu.request", figure: "Polling at 1 s: server CPU per request (of which system)", unit: "µs", read: (r) => [r.polling.cpuUs / Math.max(1, r.polling.requests), r.polling.systemUs / Math.max(1, r.polling.requests)] },
  { key: "poll.p99", figure: "Polling at 1 s: response time p99", unit: "ms", read: (r) => r.polling.p99 },
  { key: "saved.requests", figure: "Requests per second saved by SSE (polling needs one per page per second)", unit: "/s", read: (r) => r.spec.streams - sseRequestsPerS(r) },
  { key: "poll.cpu.needed", figure: "Polling at 1 s: server CPU needed (CPU per request × pages)", unit: "ms/s", read: pollCpuNeeded },
  { key: "saved.cpu", figure: "Server CPU, polling (needed) ÷ SSE", unit: "×", read: (r) => pollCpuNeeded(r) / (r.sse.cpuUs / r.sse.windowMs) },
  { key: "pressure", figure: "Machine: some task waiting for a CPU (PSI), rounds / polling", unit: "%", read: (r) => [100 * r.sse.cpuPressure, 100 * r.polling.cpuPressure] },
  { key: "open.seconds", figure: "Time to open every stream", unit: "s", read: (r) => r.openMs / 1000 },
  { key: "open.first.p99", figure: "Stream opened → first event, p99", unit: "ms", read: (r) => r.firstEvent.p99 },
];

function format(value: number | readonly number[], unit: string): string {
  if (typeof value !== "number") return value.map((v) => format(v, unit)).join(" / ");
  if (!Number.isFinite(value)) return "–";
  if (unit === "×") return value.toFixed(1);
  if (unit === "%") return value.toFixed(value >= 99.95 ? 0 : 2);
  if (Math.abs(value) < 10) return value.toFixed(2);
  if (Math.abs(value) < 100) return value.toFixed(1);
  return Math.round(value).toLocaleString("en-US");
}

interface Goal {
  goal: string;
  value: string;
  met: boolean;
}

function goals(results: Map<string, ScenarioResult[]>, value: (key: string, row: string) => number | readonly number[]): Goal[] {
  const out: Goal[] = [];
  for (const key of ["streams1k", "shared1k"]) {
    if (!results.has(key)) continue;
    const p99 = value(key, "latency.p99") as number;
    out.push({ goal: `p99 ≤ ${GOAL_P99_MS} ms at 1,000 streams (${key})`, value: `${format(p99, "ms")} ms`, met: p99 <= GOAL_P99_MS });
  }
  for (const [key, runs] of results) {
    const kb = value(key, "memory.stream.heap") as number;
    out.push({ goal: `≤ ${GOAL_KB_PER_STREAM} KB per idle stream, heap + external (${key})`, value: `${format(kb, "KB")} KB (RSS ${format(value(key, "memory.stream.rss"), "KB")} KB)`, met: kb <= GOAL_KB_PER_STREAM });
    const leftBytes = median(runs.map((r) => left(r, "heapExternal")));
    const allowed = Math.max(BASELINE_FLOOR, BASELINE_SHARE * median(runs.map((r) => grown(r, "heapExternal"))));
    out.push({
      goal: `memory back to baseline after every stream closed (${key}; heap + external within ${format(allowed / MB, "MB")} MB)`,
      value: `${format(leftBytes / MB, "MB")} MB heap + external, ${format(value(key, "memory.closed.rss"), "MB")} MB RSS`,
      met: leftBytes <= allowed,
    });
  }
  return out;
}

/** The machine's CPU pressure over the last 10 s (PSI "some" avg10, %), or undefined without PSI. */
function pressureNow(): number | undefined {
  try {
    const some = /^some avg10=([\d.]+)/m.exec(readFileSync("/proc/pressure/cpu", "utf8"));
    return some ? Number(some[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Waits until the machine's CPU pressure is below `percent` (shared machine: other sessions' suites), at most 15 min. */
async function calm(percent: number, log: (message: string) => void): Promise<void> {
  const deadline = Date.now() + 15 * 60_000;
  let pressure = pressureNow();
  if (pressure === undefined) throw new Error("--calm needs /proc/pressure/cpu (Linux PSI)");
  if (pressure < percent) return;
  log(`  waiting for CPU pressure below ${percent} % (now ${pressure} %)`);
  while (pressure !== undefined && pressure >= percent) {
    if (Date.now() > deadline) {
      log(`  still ${pressure} % after 15 min; running anyway`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    pressure = pressureNow();
  }
}

async function main(options: Options): Promise<void> {
  const began = performance.now();
  const log = (message: string) => process.stderr.write(`${message}\n`);
  if (options.serverExecArgv.length > 0 || options.profileDir) await mkdir(PROFILES, { recursive: true });
  const chosen = SCENARIOS.filter((s) => !options.only || options.only.includes(s.key));
  const results = new Map<string, ScenarioResult[]>();
  for (const spec of chosen) {
    for (let run = 1; run <= options.runs; run++) {
      if (options.calm !== undefined) await calm(options.calm, log);
      const t = performance.now();
      const result = await runScenario(spec, options);
      results.set(spec.key, [...(results.get(spec.key) ?? []), result]);
      log(`  ${spec.key} run ${run}/${options.runs} (${((performance.now() - t) / 1000).toFixed(0)} s)${result.errors.length ? `: ${result.errors.join("; ")}` : ""}`);
    }
  }
  const value = (key: string, row: string): number | readonly number[] => {
    const runs = results.get(key)!.map(ROWS.find((r) => r.key === row)!.read);
    const first = runs[0]!;
    // Several figures in a row: the median of each.
    return typeof first === "number" ? median(runs as number[]) : first.map((_, i) => median(runs.map((run) => (run as readonly number[])[i]!)));
  };

  const seconds = (performance.now() - began) / 1000;
  const keys = [...results.keys()];
  const lines = [`| figure | ${keys.map((k) => SCENARIOS.find((s) => s.key === k)!.label).join(" | ")} | unit |`, `| --- | ${keys.map(() => "---:").join(" | ")} | --- |`];
  // A row nothing filled (the `--split` one without it) is left out.
  const shown = ROWS.filter((row) => keys.some((k) => [value(k, row.key)].flat().some(Number.isFinite)));
  for (const row of shown) lines.push(`| ${row.figure} | ${keys.map((k) => format(value(k, row.key), row.unit)).join(" | ")} | ${row.unit} |`);
  console.log(
    `\nErrand realtime bench — SSE status streams on Redis, ${options.runs === 1 ? "1 run" : `median of ${options.runs} runs`}, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}\n`,
  );
  console.log(lines.join("\n"));
  const reached = goals(results, value);
  console.log("");
  for (const goal of reached) console.log(`goal: ${goal.goal} — ${goal.value} ${goal.met ? "✔" : "✘"}`);
  console.log(`(${seconds.toFixed(0)} s)`);

  await mkdir(dirname(RESULTS), { recursive: true });
  const { serverExecArgv: _flags, profileDir: _profiles, partial: _partial, calm: _calm, ...settings } = options;
  const report = {
    ...machineFacts(),
    settings,
    durationSeconds: Math.round(seconds),
    figures: Object.fromEntries(keys.map((k) => [k, Object.fromEntries(ROWS.map((row) => [row.key, value(k, row.key)]))])),
    goals: reached,
    runs: Object.fromEntries(results),
  };
  const file = options.partial ? RESULTS.replace(/\.json$/, ".partial.json") : RESULTS;
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${relative(process.cwd(), file)}`);
}

if (process.argv[1] === SELF) await main(parseArgs(process.argv.slice(2)));
