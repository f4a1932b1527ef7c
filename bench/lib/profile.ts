/**
 * CPU profiles of a benchmark's timed part: `TimedProfile` records one through
 * `node:inspector` (only between `start()` and `stop()`), `summarize` prints where the time
 * went (self time by area and by function, total time of Errand's functions), mapping
 * positions back to the `.ts` sources through the packages' source maps.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { SourceMap } from "node:module";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** bench/ (this file is bench/dist/lib/profile.js once built). */
export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const REPO = resolve(BENCH_DIR, "..");

/** Options a scenario accepts for profiling its timed part. */
export interface ProfileParams {
  /** Write a V8 CPU profile of the timed part (only) to this path. */
  profile?: string;
  /** Sampling interval of the profile, µs. Default 200. */
  profileIntervalUs?: number;
  /**
   * The process runs under `valgrind --tool=callgrind --instr-atstart=no`: switch its
   * instrumentation on for the timed part only (`callgrind_control --instr`), so the counts
   * leave out start-up, warm-up and the untimed enqueue. See core/instructions.ts.
   */
  callgrind?: boolean;
}

/** Switches callgrind's instrumentation of this process on or off and waits until it has. */
function callgrindInstrumentation(state: "on" | "off"): Promise<void> {
  return new Promise((resolve, reject) => {
    // Asynchronous on purpose: valgrind answers between the guest's instructions, so the event
    // loop must keep running while callgrind_control waits for the answer.
    const control = spawn("callgrind_control", [`--instr=${state}`, String(process.pid)], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    control.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    control.on("error", reject);
    control.on("exit", (code) => {
      if (code === 0 && !/no callgrind|error/i.test(output)) resolve();
      else reject(new Error(`callgrind_control --instr=${state} ${process.pid} failed (exit ${code}): ${output.trim()}`));
    });
  });
}

/** The V8 sampling profiler (or callgrind's instrumentation) around the timed part of a scenario; does nothing without either. */
export class TimedProfile {
  private session: Session | undefined;

  constructor(private readonly params: ProfileParams) {}

  async start(): Promise<void> {
    if (this.params.callgrind) await callgrindInstrumentation("on");
    if (!this.params.profile) return;
    this.session = new Session();
    this.session.connect();
    await this.session.post("Profiler.enable");
    await this.session.post("Profiler.setSamplingInterval", { interval: this.params.profileIntervalUs ?? 200 });
    await this.session.post("Profiler.start");
  }

  async stop(): Promise<void> {
    if (this.params.callgrind) await callgrindInstrumentation("off");
    if (!this.session || !this.params.profile) return;
    const { profile } = await this.session.post("Profiler.stop");
    await writeFile(this.params.profile, JSON.stringify(profile));
    this.session.disconnect();
    this.session = undefined;
  }
}

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
/** A `.cpuprofile` (the parts the summary reads). */
export interface CpuProfile {
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
  if (w.startsWith("node:")) return "node internals (events, timers, net, …)";
  const pkg = /^packages\/([^/]+)\/src\/(.*)$/.exec(w);
  if (pkg) return `${pkg[1] === "core" ? "core" : pkg[1]}: ${pkg[2]}`;
  if (w.startsWith("bench/")) return "bench harness";
  return `dependency: ${w}`;
}

/** Text summary of a profile: by area, top functions by self time, Errand's functions by total time. */
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

/** The adapter-call log of one measurement (see `recordCalls` in scenarios.ts) as a markdown table, slowest operation first. */
export function adapterCallsTable(calls: Record<string, { calls: number; items: number; totalMs: number; maxMs: number }>): string {
  const rows = Object.entries(calls)
    .sort((a, b) => b[1].totalMs - a[1].totalMs)
    .map(
      ([operation, s]) =>
        `| ${operation} | ${s.calls} | ${s.items} | ${(s.items / s.calls).toFixed(1)} | ${s.totalMs.toFixed(0)} | ${(s.totalMs / s.calls).toFixed(2)} | ${s.maxMs.toFixed(1)} |`,
    );
  return ["| operation | calls | jobs | jobs/call | total ms | mean ms | max ms |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |", ...rows].join("\n");
}
