/**
 * The measurements, child side: each runs in its own `node --expose-gc` process (see
 * run.ts) on a library opened on a freshly dropped schema, and returns plain numbers.
 */
import { readdirSync, readFileSync } from "node:fs";

import pg from "pg";

import { TimedProfile, type ProfileParams } from "../lib/profile.js";
import { enqueueMany, measureLatency, recordCalls, sleep, Starts, type CallStats, type Scenario } from "../lib/scenarios.js";
import { collect, RssSampler } from "../lib/stats.js";
import { openLibrary, type Library, type LibraryName, type Tuning } from "./libraries.js";

export type { CallStats, Scenario } from "../lib/scenarios.js";

export interface ChildParams extends ProfileParams {
  library: LibraryName;
  scenario: Scenario;
  url: string;
  tuning?: Tuning;
  /** Errand only: record every adapter call (`adapter:call` events) during the timed part. */
  adapterCalls?: boolean;
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
    const calls = params.adapterCalls ? recordCalls(library.events) : undefined;
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
    const calls = params.adapterCalls ? recordCalls(library.events) : undefined;
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
        await enqueueMany(library.enqueueOne, 0, scenario.warmup, lanes);
        const result = await timed(library, params, scenario.count, () => enqueueMany(library.enqueueOne, scenario.warmup, scenario.count, lanes));
        return { ...result, settings: library.settings };
      }
      case "drain":
        return await drain(library, scenario, params);
      case "latency":
        return { ...(await measureLatency(library, scenario)), settings: library.settings };
    }
  } finally {
    await library.close();
  }
}
