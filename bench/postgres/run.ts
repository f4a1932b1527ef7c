/**
 * Errand-postgres, graphile-worker and pg-boss, one after another on the same database.
 *
 *   npm run bench:postgres                         # 3 runs per figure (median), a few minutes
 *   node bench/dist/postgres/run.js --runs 1       # quicker
 *
 * Each (library, figure, run) runs in a fresh child process on a freshly created schema.
 * Prints each figure, Errand's ratio to each peer and the goals, and writes
 * bench/results/postgres-latest.json. Uses DATABASE_URL, else 127.0.0.1:5432/test.
 */
import { fork } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { LIBRARIES, openLibrary, type LibraryName } from "./libraries.js";

const SELF = fileURLToPath(import.meta.url);
const RESULTS = join(resolve(dirname(SELF), "..", ".."), "results", "postgres-latest.json");
const URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

type Scenario =
  | { kind: "bulk"; count: number }
  | { kind: "sequential"; count: number }
  | { kind: "inflight"; count: number; lanes: number }
  | { kind: "drain"; count: number; concurrency: number }
  | { kind: "latency"; count: number; concurrency: number };

interface Measurement {
  value: number;
  p50?: number;
  p95?: number;
  p99?: number;
  peakRssMb?: number;
}

/** Resolves when `check()` holds, or after `deadlineMs`. */
const waitUntil = (check: () => boolean, deadlineMs = Infinity) =>
  new Promise<void>((done) => {
    const until = performance.now() + deadlineMs;
    const timer = setInterval(() => {
      if (check() || performance.now() >= until) {
        clearInterval(timer);
        done();
      }
    }, 2);
  });

/** A drain stops after this long and reports the rate it reached (pg-boss at concurrency 1 would take hours). */
const DRAIN_CAP_MS = 15_000;

// ---------------------------------------------------------------------------------------
// Child: one measurement.

async function measure(libraryName: LibraryName, scenario: Scenario): Promise<Measurement> {
  const library = await openLibrary(libraryName, URL);
  try {
    if (scenario.kind === "bulk") {
      const started = performance.now();
      await library.enqueueBulk(scenario.count);
      return { value: scenario.count / ((performance.now() - started) / 1000) };
    }
    if (scenario.kind === "sequential") {
      const started = performance.now();
      for (let n = 0; n < scenario.count; n++) await library.enqueueOne(n);
      return { value: scenario.count / ((performance.now() - started) / 1000) };
    }
    if (scenario.kind === "inflight") {
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: scenario.lanes }, async () => {
          while (next < scenario.count) await library.enqueueOne(next++);
        }),
      );
      return { value: scenario.count / ((performance.now() - started) / 1000) };
    }
    if (scenario.kind === "drain") {
      await library.enqueueBulk(scenario.count);
      let done = 0;
      let peak = process.memoryUsage().rss;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
      const started = performance.now();
      await library.startWorkers(scenario.concurrency, () => done++);
      await waitUntil(() => done >= scenario.count, DRAIN_CAP_MS);
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      return { value: Math.min(done, scenario.count) / seconds, peakRssMb: peak / 2 ** 20 };
    }
    // latency: one job at a time into an idle worker; start time minus enqueue time.
    const enqueuedAt = new Map<number, number>();
    const latencies: number[] = [];
    await library.startWorkers(scenario.concurrency, (n) => {
      const at = enqueuedAt.get(n);
      if (at !== undefined) latencies.push(performance.now() - at);
    });
    for (let n = 0; n < scenario.count; n++) {
      enqueuedAt.set(n, performance.now());
      await library.enqueueOne(n);
      await waitUntil(() => latencies.length > n, 5_000);
    }
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
    return { value: at(0.5), p50: at(0.5), p95: at(0.95), p99: at(0.99) };
  } finally {
    await library.close();
  }
}

// ---------------------------------------------------------------------------------------
// Parent.

function inChild(library: LibraryName, scenario: Scenario): Promise<Measurement> {
  return new Promise((resolveResult, reject) => {
    const child = fork(SELF, ["--child", library, JSON.stringify(scenario)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let result: Measurement | undefined;
    child.on("message", (message) => (result = message as Measurement));
    child.on("exit", (code) => (result && code === 0 ? resolveResult(result) : reject(new Error(`${library} ${scenario.kind} exited ${code}`))));
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

interface Row {
  figure: string;
  unit: string;
  higherIsBetter: boolean;
  values: Partial<Record<LibraryName, number>>;
}

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf("--runs");
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;
  const scenarios: { figure: string; unit: string; scenario: Scenario; read?: keyof Measurement; higherIsBetter?: boolean }[] = [
    { figure: "enqueue bulk, 20k jobs in one call", unit: "jobs/s", scenario: { kind: "bulk", count: 20_000 } },
    { figure: "enqueue single, sequential (5k)", unit: "jobs/s", scenario: { kind: "sequential", count: 5_000 } },
    { figure: "enqueue single, 32 in flight (5k)", unit: "jobs/s", scenario: { kind: "inflight", count: 5_000, lanes: 32 } },
    ...[1, 10, 50].map((concurrency) => ({
      figure: `drain 20k no-op jobs, concurrency ${concurrency}`,
      unit: "jobs/s",
      scenario: { kind: "drain", count: 20_000, concurrency } as Scenario,
    })),
    ...(["p50", "p95", "p99"] as const).map((read) => ({
      figure: `enqueue→start latency ${read}, concurrency 10`,
      unit: "ms",
      scenario: { kind: "latency", count: 300, concurrency: 10 } as Scenario,
      read,
      higherIsBetter: false,
    })),
    { figure: "peak RSS during the drain (concurrency 10)", unit: "MB", scenario: { kind: "drain", count: 20_000, concurrency: 10 }, read: "peakRssMb", higherIsBetter: false },
  ];
  const cache = new Map<string, Measurement[]>();
  const rows: Row[] = [];
  for (const { figure, unit, scenario, read = "value", higherIsBetter = true } of scenarios) {
    const row: Row = { figure, unit, higherIsBetter, values: {} };
    for (const library of LIBRARIES) {
      const key = `${library} ${JSON.stringify(scenario)}`;
      let measured = cache.get(key);
      if (!measured) {
        measured = [];
        for (let run = 0; run < runs; run++) {
          process.stderr.write(`${library}: ${figure} run ${run + 1}/${runs}\n`);
          measured.push(await inChild(library, scenario));
        }
        cache.set(key, measured);
      }
      row.values[library] = median(measured.map((m) => m[read] as number));
    }
    rows.push(row);
  }

  const fmt = (value: number | undefined, unit: string) =>
    value === undefined ? "n/a" : unit === "ms" ? value.toFixed(2) : Math.round(value).toLocaleString("en-US");
  const ratio = (row: Row, peer: LibraryName) => {
    const a = row.values.errand;
    const b = row.values[peer];
    if (!a || !b) return "n/a";
    return `${(row.higherIsBetter ? a / b : b / a).toFixed(2)}×`;
  };
  const lines = [
    `Errand-postgres vs graphile-worker 0.17.3 vs pg-boss 10.4.2 — median of ${runs}, node ${process.version}`,
    "",
    "| figure | unit | errand | graphile-worker | pg-boss | errand vs graphile | errand vs pg-boss |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (row) =>
        `| ${row.figure} | ${row.unit} | ${fmt(row.values.errand, row.unit)} | ${fmt(row.values["graphile-worker"], row.unit)} | ${fmt(row.values["pg-boss"], row.unit)} | ${ratio(row, "graphile-worker")} | ${ratio(row, "pg-boss")} |`,
    ),
    "",
    "(ratios: how many times better Errand is — higher throughput, or lower latency and memory)",
  ];
  const find = (prefix: string) => rows.find((row) => row.figure.startsWith(prefix))!;
  const times = (row: Row) => (row.values.errand ?? 0) / (row.values["graphile-worker"] ?? Infinity);
  const goal = (label: string, ok: boolean, detail: string) => lines.push(`goal: ${label} — ${detail} ${ok ? "✔" : "✘"}`);
  for (const c of [1, 10, 50]) {
    const row = find(`drain 20k no-op jobs, concurrency ${c}`);
    goal(`drain c=${c} ≥ 1.2× graphile-worker`, times(row) >= 1.2, `${times(row).toFixed(2)}×`);
  }
  goal("bulk enqueue ≥ 1.2× graphile-worker", times(find("enqueue bulk")) >= 1.2, `${times(find("enqueue bulk")).toFixed(2)}×`);
  goal("single enqueue, 32 in flight ≥ 5× graphile-worker", times(find("enqueue single, 32")) >= 5, `${times(find("enqueue single, 32")).toFixed(2)}×`);
  const p50 = find("enqueue→start latency p50").values.errand ?? Infinity;
  goal("p50 latency ≤ 3 ms", p50 <= 3, `${p50.toFixed(2)} ms`);
  console.log(lines.join("\n"));
  await mkdir(dirname(RESULTS), { recursive: true });
  await writeFile(RESULTS, JSON.stringify({ date: new Date().toISOString(), node: process.version, runs, rows }, null, 2) + "\n");
}

if (process.argv[2] === "--child") {
  const result = await measure(process.argv[3] as LibraryName, JSON.parse(process.argv[4]!) as Scenario);
  process.send!(result);
  process.exit(0);
} else {
  await main();
}
