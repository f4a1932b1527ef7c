/**
 * The measurements, child side: each runs in its own `node --expose-gc` process (see
 * run.ts) on a library opened under a fresh key prefix, returns plain numbers, and deletes
 * that prefix's keys before it exits.
 */
import type { Redis } from "ioredis";

import { TimedProfile, type ProfileParams } from "../lib/profile.js";
import { enqueueMany, measureLatency, recordCalls, sleep, Starts, type CallStats, type Scenario } from "../lib/scenarios.js";
import { collect, RssSampler } from "../lib/stats.js";
import { openLibrary, type Library, type LibraryName, type Tuning } from "./libraries.js";
import { commandsSince, commandStats, connect, deleteKeys, prefixMemory, serverCpuUs } from "./store.js";

export type { CallStats, Scenario } from "../lib/scenarios.js";

export interface ChildParams extends ProfileParams {
  library: LibraryName;
  scenario: Scenario;
  url: string;
  /** Every key the library writes starts with `prefix:`; the child deletes them at the end. */
  prefix: string;
  tuning?: Tuning;
  /** Errand only: record every adapter call (`adapter:call` events) during the timed part. */
  adapterCalls?: boolean;
  /** Record the server's commands (INFO commandstats) during the timed part. */
  commandStats?: boolean;
}

export interface Measurement {
  /** The headline: jobs/s, or the p50 in ms for latency. */
  value: number;
  ms: number;
  settings: Record<string, unknown>;
  // drain
  /** Jobs/s from `startWorkers()` (includes the library's start-up) until all finished in Redis. */
  fromStartCallRate?: number;
  /** Jobs/s from the first job start until the last job start. */
  allStartedRate?: number;
  /** The drain hit its time cap: `value` is the rate of starts reached until then. */
  capped?: boolean;
  jobsDone?: number;
  peakRssMb?: number;
  /** CPU time of this process (the library and its Redis clients) during the timed part, µs per job. */
  nodeCpuUsPerJob?: number;
  /** CPU time of the redis-server process during the timed part, µs per job (the whole server: other clients count too). */
  redisCpuUsPerJob?: number;
  // enqueue
  /** What the library's keys take in Redis once every job is enqueued (MEMORY USAGE), bytes per job. */
  storedBytesPerJob?: number;
  /** What the library's keys still take after the drain (finished jobs it keeps), bytes per job drained (warm-up included). */
  keptBytesPerJob?: number;
  // latency
  p50?: number;
  p95?: number;
  p99?: number;
  max?: number;
  samples?: number;
  // Errand, with adapterCalls
  adapterCalls?: Record<string, CallStats>;
  // with commandStats
  /** Commands the server ran during the timed part, scripts' commands included (the whole server: other clients count too). */
  serverCommands?: Record<string, { calls: number; usec: number }>;
  /** Keys the child deleted under its prefix at the end. */
  keysDeleted?: number;
}

/** Polls `library.unfinished` back to back until every job is recorded as finished. */
async function untilFinished(library: Library, observer: Redis, ms = 30_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (await library.unfinished(observer)) {
    if (performance.now() > deadline) throw new Error(`${library.name}: jobs still unfinished after ${ms} ms`);
    await sleep(1);
  }
}

type Costs = Pick<Measurement, "nodeCpuUsPerJob" | "redisCpuUsPerJob" | "serverCommands">;

/** CPU of this process and of the Redis server (and, when asked for, the server's commands) from `start()` to `stop(jobs)`. */
class CpuCost {
  private cpu = process.cpuUsage();
  private server = 0;
  private commands: Map<string, { calls: number; usec: number }> | undefined;

  constructor(
    private readonly observer: Redis,
    private readonly withCommands = false,
  ) {}

  async start(): Promise<void> {
    if (this.withCommands) this.commands = await commandStats(this.observer);
    this.server = await serverCpuUs(this.observer);
    this.cpu = process.cpuUsage();
  }

  async stop(jobs: number): Promise<Costs> {
    const cpu = process.cpuUsage(this.cpu);
    const server = await serverCpuUs(this.observer);
    const costs: Costs = { nodeCpuUsPerJob: (cpu.user + cpu.system) / jobs, redisCpuUsPerJob: (server - this.server) / jobs };
    if (this.commands) costs.serverCommands = commandsSince(this.commands, await commandStats(this.observer));
    return costs;
  }
}

/** Times `count` jobs' worth of enqueueing (after a full GC), under the profiler and the adapter-call log when asked for. */
async function timedEnqueue(library: Library, observer: Redis, params: ChildParams, count: number, run: () => Promise<void>): Promise<Measurement> {
  const costs = new CpuCost(observer, params.commandStats);
  collect();
  const profile = new TimedProfile(params);
  const calls = params.adapterCalls ? recordCalls(library.events) : undefined;
  await costs.start();
  await profile.start();
  const started = performance.now();
  await run();
  const ms = performance.now() - started;
  await profile.stop();
  const result: Measurement = {
    value: (count / ms) * 1000,
    ms,
    settings: library.settings,
    ...(await costs.stop(count)),
  };
  // Every job enqueued so far (warm-up included) is still stored: nobody works them off.
  const stored = await prefixMemory(observer, params.prefix);
  result.storedBytesPerJob = stored.bytes / (count + params.scenario.warmup);
  const adapterCalls = calls?.();
  if (adapterCalls) result.adapterCalls = adapterCalls;
  return result;
}

async function drain(library: Library, observer: Redis, scenario: Extract<Scenario, { kind: "drain" }>, params: ChildParams): Promise<Measurement> {
  const { count, concurrency, warmup, capMs } = scenario;
  const starts = new Starts();
  // Warm-up: the same drain on a few jobs (JIT, connections, scripts loaded), then the workers stop.
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
  const costs = new CpuCost(observer, params.commandStats);
  await costs.start();
  const rss = new RssSampler().start(50);
  await profile.start();
  const called = performance.now();
  await library.startWorkers(concurrency, starts.onStart);
  const all = await starts.until(count, capMs);
  const allStartedAt = performance.now();
  if (all) await untilFinished(library, observer);
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
  // Errand keeps finished jobs for status lookups (24 h, at most 100k per queue); BullMQ as many as removeOnComplete says.
  result.keptBytesPerJob = (await prefixMemory(observer, params.prefix)).bytes / (warmup + count);
  return result;
}

async function run(library: Library, observer: Redis, params: ChildParams): Promise<Measurement> {
  const { scenario } = params;
  switch (scenario.kind) {
    case "bulk":
      await library.enqueueBulk(0, scenario.warmup);
      return timedEnqueue(library, observer, params, scenario.count, () => library.enqueueBulk(scenario.warmup, scenario.count));
    case "sequential":
    case "inflight": {
      const lanes = scenario.kind === "inflight" ? scenario.lanes : 1;
      await enqueueMany(library.enqueueOne, 0, scenario.warmup, lanes);
      return timedEnqueue(library, observer, params, scenario.count, () => enqueueMany(library.enqueueOne, scenario.warmup, scenario.count, lanes));
    }
    case "drain":
      return drain(library, observer, scenario, params);
    case "latency":
      return { ...(await measureLatency(library, scenario)), settings: library.settings };
  }
}

/** Runs one scenario on one library under `params.prefix`, closes it and deletes the prefix's keys. */
export async function measure(params: ChildParams): Promise<Measurement> {
  const observer = connect(params.url);
  try {
    let result: Measurement;
    const library = await openLibrary(params.library, params.url, params.prefix, params.tuning ?? {});
    try {
      result = await run(library, observer, params);
    } finally {
      await library.close();
    }
    result.keysDeleted = await deleteKeys(observer, params.prefix);
    return result;
  } catch (error) {
    await deleteKeys(observer, params.prefix).catch(() => undefined);
    throw error;
  } finally {
    await observer.quit().catch(() => observer.disconnect());
  }
}
