/**
 * Where the drain's time goes. Runs the drain scenario once in a child process with the
 * V8 sampling profiler on for the timed part only (worker start → last job complete),
 * writes the .cpuprofile (open it in Chrome DevTools → Performance, or speedscope.app)
 * and prints the top costs:
 *
 *   npx tsc -b bench && node bench/dist/core/profile.js [--concurrency 10] [--jobs 100000] [--no-inline]
 *   node bench/dist/core/profile.js --scenario enqueue [--mode sequential|inflight|bulk] [--jobs 50000]
 *   node bench/dist/core/profile.js --summarize bench/results/profiles/<file>.cpuprofile
 *
 * `--no-inline` runs V8 without inlining: slower, but a cost is charged to the function that
 * has it instead of the caller it was inlined into. Positions are mapped back to the
 * TypeScript sources through the packages' source maps.
 *
 * Self time is time spent in a function's own code; total time includes what it calls
 * (counted once per sample even when the function recurses).
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { SourceMap } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { inChild } from "./child.js";

const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const REPO = resolve(BENCH_DIR, "..");

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A short, stable place name: package-relative path for our code, the package for dependencies. */
function where(url: string): string {
  if (!url) return "(native)";
  const path = url.startsWith("file://") ? fileURLToPath(url) : url;
  if (path.startsWith("node:")) return path;
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0 && !path.includes("/node_modules/@errand/")) {
    const rest = path.slice(nm + "node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  return relative(REPO, path).replace(/\/dist\//, "/src/").replace(/\.js$/, ".ts");
}

const sourceMaps = new Map<string, SourceMap | undefined>();

/** `file.ts:line` of a compiled position, through the file's source map when it has one. */
function sourcePosition(frame: CallFrame): string {
  const place = where(frame.url);
  if (!frame.url.startsWith("file://")) return `${place}:${frame.lineNumber + 1}`;
  const path = fileURLToPath(frame.url);
  if (!sourceMaps.has(path)) {
    const mapPath = `${path}.map`;
    sourceMaps.set(path, existsSync(mapPath) ? new SourceMap(JSON.parse(readFileSync(mapPath, "utf8"))) : undefined);
  }
  const entry = sourceMaps.get(path)?.findEntry(frame.lineNumber, frame.columnNumber) as
    | { originalSource?: string; originalLine?: number }
    | undefined;
  if (!entry || entry.originalLine === undefined || !entry.originalSource) return `${place}:${frame.lineNumber + 1}`;
  const source = entry.originalSource.startsWith("file://") ? fileURLToPath(entry.originalSource) : resolve(dirname(path), entry.originalSource);
  return `${relative(REPO, source)}:${entry.originalLine + 1}`;
}

function frameKey(frame: CallFrame): string {
  const name = frame.functionName || "(anonymous)";
  if (!frame.url) return name;
  return `${name}  ${sourcePosition(frame)}`;
}

/** Rough buckets for the summary. */
function category(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === "(garbage collector)") return "GC";
  if (functionName === "(program)" || functionName === "(idle)" || functionName === "(root)") return "V8/runtime (program, idle)";
  const w = where(url);
  if (w === "(native)") return "native builtins (JSON, Map, Date, crypto, …)";
  if (w.startsWith("node:")) return "node internals (events, timers, …)";
  if (w.startsWith("packages/core/")) return `core: ${w.slice("packages/core/src/".length)}`;
  if (w.startsWith("packages/adapter-async/")) return `adapter-async: ${w.slice("packages/adapter-async/src/".length)}`;
  if (w.startsWith("bench/")) return "bench harness";
  return `dependency: ${w}`;
}

export function summarize(profile: CpuProfile, top = 30): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, index) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const categories = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const key = frameKey(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + us);
    const cat = category(node.callFrame);
    categories.set(cat, (categories.get(cat) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const k = frameKey(byId.get(at)!.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${((us / totalUs) * 100).toFixed(1)}%`.padStart(6);
  const rows = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, us]) => `${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
  const interesting = new Map([...total].filter(([key]) => key.includes("packages/") && !/\(root\)|\(program\)/.test(key)));
  return [
    `profiled ${(totalUs / 1000).toFixed(0)} ms, ${profile.samples.length} samples`,
    "",
    "## by area (self time)",
    ...rows(categories, 25),
    "",
    `## top ${top} functions by self time`,
    ...rows(self, top),
    "",
    "## Errand functions by total time (self + callees)",
    ...rows(interesting, 25),
  ].join("\n");
}

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
  const label = scenario === "drain" ? `drain-c${concurrency}` : `enqueue-${mode}`;
  const inline = argv.includes("--no-inline") ? "-noinline" : "";
  const path = join(dir, `${label}${inline}-${new Date().toISOString().replace(/[:.]/g, "-")}.cpuprofile`);
  const execArgv = inline ? ["--no-turbo-inlining"] : [];
  const profile = { profile: path, profileIntervalUs: interval };
  let result: { rate: number };
  if (scenario === "drain") result = await inChild("drain", { concurrency, jobs, ...profile }, execArgv);
  else if (scenario === "enqueue") result = await inChild("enqueue", { mode, jobs, inFlight: 32, batch: 1000, ...profile }, execArgv);
  else throw new Error(`--scenario must be drain or enqueue, got ${scenario}`);
  console.log(`${label}${inline}, ${jobs.toLocaleString("en-US")} jobs: ${Math.round(result.rate).toLocaleString("en-US")} jobs/s under the profiler`);
  console.log(`profile: ${relative(process.cwd(), path)}\n`);
  console.log(summarize(JSON.parse(await readFile(path, "utf8")) as CpuProfile));
}
