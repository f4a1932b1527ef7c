/**
 * The measurements, child side: each runs in its own `node --expose-gc` process (see
 * run.ts) on a library opened on a freshly dropped schema, and returns plain numbers.
 */
import { readdirSync, readFileSync } from "node:fs";

import pg from "pg";

import { TimedProfile, type ProfileParams } from "../lib/profile.js";
import { collect, percentile, RssSampler } from "../lib/stats.js";
import { openLibrary, type Library, type LibraryName, type Tuning } from "./libraries.js";

export type Scenario =
  | { kind: "bulk"; count: number; warmup: number }
  | { kind: "sequential"; count: number; warmup: number }
  | { kind: "inflight"; count: number; lanes: number; warmup: number }
  | { kind: "drain"; count: number; concurrency: number; warmup: number; capMs: number }
  | { kind: "latency"; count: number; concurrency: number; warmup: number; capMs: number };

export interface ChildParams extends ProfileParams {
  library: LibraryName;
  scenario: Scenario;
  url: string;
  tuning?: Tuning;
  /** Errand only: record every adapter call (`adapter:call` events) during the timed part. */
  adapterCalls?: boolean;
}

/** One operation's adapter calls during the timed part. */
export interface CallStats {
  calls: number;
  /** Jobs (or rows) the calls carried in all. */
  items: number;
  totalMs: number;
  maxMs: number;
}

export interface Measurement {
  /** The headline: jobs/s, or the p50 in ms for latency. */
  value: number;
  ms: number;
  settings: Record<string, unknown>;
  // drain
  /** Jobs/s from `startWorkers()` (includes the library's start-up) until all finished in the database. */
  fromStartCallRate?: number;
  /** Jobs/s from the first job start until the last job start. */
  allStartedRate?: number;
  /** The drain hit its time cap: `value` is the rate of starts reached until then. */
  capped?: boolean;
  jobsDone?: number;
  peakRssMb?: number;
  /** CPU time of this process (the worker and its pg client) during the drain, µs per job. */
  nodeCpuUsPerJob?: number;
  /** CPU time of all PostgreSQL server processes during the drain, µs per job (when /proc shows them). */
  postgresCpuUsPerJob?: number;
  /** WAL written during the drain (whole server), bytes per job. */
  walBytesPerJob?: number;
  // latency
  p50?: number;
  p95?: number;
  p99?: number;
  max?: number;
  samples?: number;
  // Errand, with adapterCalls
  adapterCalls?: Record<string, CallStats>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Counts job starts. `until(n, ms)` resolves once `n` jobs started in all, or after `ms`
 * (then `reached` is false).
 */
class Starts {
  count = 0;
  first = 0;
  last = 0;
  private target = Infinity;
  private done: (() => void) | undefined;

  readonly onStart = (): void => {
    const now = performance.now();
    if (this.count++ === 0) this.first = now;
    this.last = now;
    if (this.count >= this.target) this.done?.();
  };

  reset(): void {
    this.count = 0;
    this.first = 0;
    this.last = 0;
  }

  until(target: number, ms: number): Promise<boolean> {
    if (this.count >= target) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), ms);
      const finish = (reached: boolean) => {
        clearTimeout(timer);
        this.done = undefined;
        this.target = Infinity;
        resolve(reached);
      };
      this.target = target;
      this.done = () => finish(true);
    });
  }
}

/** Polls `sql` back to back until it returns no row: every job is recorded as finished. */
async function untilFinished(client: pg.Client, sql: string, ms = 30_000): Promise<void> {
  const deadline = performance.now() + ms;
  while ((await client.query(sql)).rowCount) {
    if (performance.now() > deadline) throw new Error(`jobs still unfinished after ${ms} ms: ${sql}`);
    await sleep(1);
  }
}

/** CPU time (user + system) of every PostgreSQL process, in µs; undefined when /proc does not show them. */
function postgresCpuUs(): number | undefined {
  let ticks = 0;
  let found = false;
  try {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const close = stat.lastIndexOf(")");
        if (stat.slice(stat.indexOf("(") + 1, close) !== "postgres") continue;
        const fields = stat.slice(close + 2).split(" ");
        ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15 of stat)
        found = true;
      } catch {
        // the process ended meanwhile
      }
    }
  } catch {
    return undefined;
  }
  return found ? (ticks / 100) * 1e6 : undefined; // USER_HZ is 100 on Linux
}

const walLsn = async (client: pg.Client) => (await client.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0]!.lsn;
const walBytesSince = async (client: pg.Client, lsn: string) =>
  Number((await client.query<{ bytes: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::text AS bytes", [lsn])).rows[0]!.bytes);

/** Records Errand's adapter calls while on. */
function recordCalls(library: Library): (() => Record<string, CallStats>) | undefined {
  const events = library.events;
  if (!events) return undefined;
  const stats: Record<string, CallStats> = {};
  const off = events.on("adapter:call", ({ operation, durationMs, count }) => {
    const entry = (stats[operation] ??= { calls: 0, items: 0, totalMs: 0, maxMs: 0 });
    entry.calls++;
    entry.items += count;
    entry.totalMs += durationMs;
    entry.maxMs = Math.max(entry.maxMs, durationMs);
  });
  return () => {
    off();
    return stats;
  };
}

/** CPU of this process and of the PostgreSQL server, and WAL written, from `start()` to `stop(jobs)`. */
class Costs {
  private cpu = process.cpuUsage();
  private pg = postgresCpuUs();
  private wal = "";

  constructor(private readonly client: pg.Client) {}

  async start(): Promise<void> {
    this.wal = await walLsn(this.client);
    this.pg = postgresCpuUs();
    this.cpu = process.cpuUsage();
  }

  async stop(jobs: number): Promise<Pick<Measurement, "nodeCpuUsPerJob" | "postgresCpuUsPerJob" | "walBytesPerJob">> {
    const cpu = process.cpuUsage(this.cpu);
    const pgAfter = postgresCpuUs();
    const costs: Pick<Measurement, "nodeCpuUsPerJob" | "postgresCpuUsPerJob" | "walBytesPerJob"> = {
      nodeCpuUsPerJob: (cpu.user + cpu.system) / jobs,
      walBytesPerJob: (await walBytesSince(this.client, this.wal)) / jobs,
    };
    if (this.pg !== undefined && pgAfter !== undefined) costs.postgresCpuUsPerJob = (pgAfter - this.pg) / jobs;
    return costs;
  }
}

/** Times `count` jobs' worth of `run` (after a full GC), under the profiler and the adapter-call log when asked for. */
async function timed(library: Library, params: ChildParams, count: number, run: () => Promise<void>): Promise<Omit<Measurement, "settings">> {
  const client = new pg.Client({ connectionString: params.url });
  await client.connect();
  try {
    const costs = new Costs(client);
    collect();
    const profile = new TimedProfile(params);
    const calls = params.adapterCalls ? recordCalls(library) : undefined;
    await costs.start();
    await profile.start();
    const started = performance.now();
    await run();
    const ms = performance.now() - started;
    await profile.stop();
    const result: Omit<Measurement, "settings"> = { value: (count / ms) * 1000, ms, ...(await costs.stop(count)) };
    const adapterCalls = calls?.();
    if (adapterCalls) result.adapterCalls = adapterCalls;
    return result;
  } finally {
    await client.end();
  }
}

async function enqueueMany(library: Library, from: number, count: number, lanes: number): Promise<void> {
  let next = from;
  const end = from + count;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < end) await library.enqueueOne(next++);
    }),
  );
}

async function drain(library: Library, scenario: Extract<Scenario, { kind: "drain" }>, params: ChildParams): Promise<Measurement> {
  const { count, concurrency, warmup, capMs } = scenario;
  const client = new pg.Client({ connectionString: params.url });
  await client.connect();
  try {
    const starts = new Starts();
    // Warm-up: the same drain on a few jobs (JIT, connections, plans), then the workers stop.
    if (warmup > 0) {
      await library.enqueueBulk(0, warmup);
      await library.startWorkers(concurrency, starts.onStart);
      if (!(await starts.until(warmup, 20_000))) throw new Error(`${library.name}: the warm-up drain did not finish in 20 s`);
      await library.stopWorkers();
      starts.reset();
    }
    await library.enqueueBulk(warmup, count);
    collect();
    const profile = new TimedProfile(params);
    const calls = params.adapterCalls ? recordCalls(library) : undefined;
    const costs = new Costs(client);
    await costs.start();
    const rss = new RssSampler().start(50);
    await profile.start();
    const called = performance.now();
    await library.startWorkers(concurrency, starts.onStart);
    const all = await starts.until(count, capMs);
    const allStartedAt = performance.now();
    if (all) await untilFinished(client, library.unfinishedSql);
    const finished = performance.now();
    await profile.stop();
    const peakRssMb = rss.stop();
    const adapterCalls = calls?.();
    const done = Math.min(starts.count, count);
    const result: Measurement = {
      value: all ? count / ((finished - starts.first) / 1000) : done / ((allStartedAt - (starts.first || called)) / 1000),
      ms: finished - called,
      settings: library.settings,
      fromStartCallRate: done / ((finished - called) / 1000),
      allStartedRate: done / ((starts.last - starts.first) / 1000),
      capped: !all,
      jobsDone: done,
      peakRssMb,
      ...(await costs.stop(done)),
    };
    if (adapterCalls) result.adapterCalls = adapterCalls;
    return result;
  } finally {
    await client.end();
  }
}

async function latency(library: Library, scenario: Extract<Scenario, { kind: "latency" }>): Promise<Measurement> {
  const { count, concurrency, warmup, capMs } = scenario;
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  /** The first measured job (after the warm-up). */
  let first = warmup;
  let waiting: { n: number; resolve: () => void } | undefined;
  await library.startWorkers(concurrency, (n) => {
    const now = performance.now();
    const at = sentAt.get(n);
    if (at !== undefined && n >= first) latencies.push(now - at);
    if (waiting?.n === n) waiting.resolve();
  });
  await sleep(200); // let the workers reach their idle wait
  collect();
  // The warm-up ends after `warmup` jobs or 2 s; the measured part after `count` jobs or
  // `capMs` (a polling library gets fewer samples), but never before 20 samples.
  let began = performance.now();
  for (let n = 0; n < first + count; n++) {
    if (n < first && performance.now() - began > 2_000) first = n;
    if (n === first) began = performance.now();
    if (n >= first + 20 && performance.now() - began > capMs) break;
    // A random pause first, so enqueues are not in step with a polling loop.
    await sleep(Math.random() * library.latencyGapMs);
    const started = new Promise<void>((resolve) => (waiting = { n, resolve }));
    sentAt.set(n, performance.now());
    await library.enqueueOne(n);
    const timeout = sleep(10_000).then(() => {
      throw new Error(`${library.name}: job ${n} did not start within 10 s`);
    });
    await Promise.race([started, timeout]);
  }
  const sorted = latencies.sort((a, b) => a - b);
  return {
    value: percentile(sorted, 50),
    ms: performance.now() - began,
    settings: library.settings,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1]!,
    samples: sorted.length,
  };
}

/** Runs one scenario on one library (opened on a fresh schema here) and closes it. */
export async function measure(params: ChildParams): Promise<Measurement> {
  const library = await openLibrary(params.library, params.url, params.tuning ?? {});
  const { scenario } = params;
  try {
    switch (scenario.kind) {
      case "bulk": {
        await library.enqueueBulk(0, scenario.warmup);
        const result = await timed(library, params, scenario.count, () => library.enqueueBulk(scenario.warmup, scenario.count));
        return { ...result, settings: library.settings };
      }
      case "sequential":
      case "inflight": {
        const lanes = scenario.kind === "inflight" ? scenario.lanes : 1;
        await enqueueMany(library, 0, scenario.warmup, lanes);
        const result = await timed(library, params, scenario.count, () => enqueueMany(library, scenario.warmup, scenario.count, lanes));
        return { ...result, settings: library.settings };
      }
      case "drain":
        return await drain(library, scenario, params);
      case "latency":
        return await latency(library, scenario);
    }
  } finally {
    await library.close();
  }
}
