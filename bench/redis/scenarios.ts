/**
 * The measurements, child side: each runs in its own `node --expose-gc` process (see
 * run.ts) on a library opened under a fresh key prefix, returns plain numbers, and deletes
 * that prefix's keys before it exits.
 */
import type { Redis } from "ioredis";

import { measureScenario, type CostMeter, type ScenarioMeasurement, type ScenarioParams } from "../lib/scenarios.js";
import { openLibrary, type Library, type LibraryName, type Tuning } from "./libraries.js";
import { commandsSince, commandStats, connect, deleteKeys, prefixMemory, serverCpuUs } from "./store.js";

export interface ChildParams extends ScenarioParams {
  library: LibraryName;
  url: string;
  /** Every key the library writes starts with `prefix:`; the child deletes them at the end. */
  prefix: string;
  tuning?: Tuning;
  /** Record the server's commands (INFO commandstats) during the timed part. */
  commandStats?: boolean;
}

export interface Measurement extends ScenarioMeasurement {
  /** CPU time of the redis-server process during the timed part, µs per job (the whole server: other clients count too). */
  redisCpuUsPerJob?: number;
  // enqueue
  /** What the library's keys take in Redis once every job is enqueued (MEMORY USAGE), bytes per job. */
  storedBytesPerJob?: number;
  // drain
  /** What the library's keys still take after the drain (finished jobs it keeps), bytes per job drained (warm-up included). */
  keptBytesPerJob?: number;
  // with commandStats
  /** Commands the server ran during the timed part, scripts' commands included (the whole server: other clients count too). */
  serverCommands?: Record<string, { calls: number; usec: number }>;
  /** Keys the child deleted under its prefix at the end. */
  keysDeleted?: number;
}

type Costs = Pick<Measurement, "nodeCpuUsPerJob" | "redisCpuUsPerJob" | "serverCommands">;

/** CPU of this process and of the Redis server (and, when asked for, the server's commands) from `start()` to `stop(jobs)`. */
class CpuCost implements CostMeter<Costs> {
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

async function run(library: Library, observer: Redis, params: ChildParams): Promise<Measurement> {
  const result: Measurement = await measureScenario(library, params, {
    costs: () => new CpuCost(observer, params.commandStats),
    unfinished: () => library.unfinished(observer),
  });
  const { scenario } = params;
  if (scenario.kind === "latency") return result;
  // What the library's keys take per job enqueued (warm-up included). After an enqueue every
  // job is still stored: nobody works them off. After a drain, the finished jobs it keeps:
  // Errand for status lookups (24 h, at most 100k per queue); BullMQ as many as removeOnComplete says.
  const bytesPerJob = (await prefixMemory(observer, params.prefix)).bytes / (scenario.warmup + scenario.count);
  if (scenario.kind === "drain") result.keptBytesPerJob = bytesPerJob;
  else result.storedBytesPerJob = bytesPerJob;
  return result;
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
