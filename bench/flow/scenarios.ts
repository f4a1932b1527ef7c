/**
 * The flow bench's measurements, child side: each runs in its own `node --expose-gc`
 * process (see run.ts), opens one variant on one backend under a fresh prefix, runs the
 * shared `measureScenario` (a timed bulk enqueue or a timed drain), adds what the timed part
 * cost the backend, closes the library and deletes what it wrote.
 *
 * Costs: CPU of this process always; of the server (redis-server from INFO cpu on the Redis
 * and SQS backends — the SQS backend's status store is on Redis —, every PostgreSQL process
 * from /proc); of the emulator on SQS. With `details`: the Redis commands run (INFO
 * commandstats, scripts' commands included) and the PostgreSQL statements this process sent
 * (counted at `pg.Client.prototype.query`, by their text).
 */
import pg from "pg";

import { measureScenario, type CostMeter, type ScenarioMeasurement, type ScenarioParams } from "../lib/scenarios.js";
import { postgresCpuUs } from "../postgres/scenarios.js";
import { commandsSince, commandStats, connect, serverCpuUs } from "../redis/store.js";
import { processCpuUs } from "../sqs/store.js";
import { openFlowLibrary, type Backend, type Endpoints, type Variant } from "./libraries.js";

export interface ChildParams extends ScenarioParams, Endpoints {
  backend: Backend;
  variant: Variant;
  /** Keys, queues (and the SQS status store's keys) of this measurement start with it. */
  prefix: string;
  /** The emulator's process (SQS), for its CPU per job. */
  emulatorPid?: number;
  /** Record the Redis commands or PostgreSQL statements of the timed part. */
  details?: boolean;
}

export interface Measurement extends ScenarioMeasurement {
  /** CPU of redis-server (Redis, SQS's status store) or of all PostgreSQL processes during the timed part, µs per job. */
  serverCpuUsPerJob?: number;
  /** CPU of the SQS emulator's process during the timed part, µs per job. */
  emulatorCpuUsPerJob?: number;
  /** With `details`, Redis: commands the server ran during the timed part (whole server). */
  serverCommands?: Record<string, { calls: number; usec: number }>;
  /** With `details`, PostgreSQL: statements this process sent during the timed part, by their first words. */
  statements?: Record<string, number>;
}

type Costs = Pick<Measurement, "nodeCpuUsPerJob" | "serverCpuUsPerJob" | "emulatorCpuUsPerJob" | "serverCommands" | "statements">;

/** A statement's label: its text without comments, whitespace collapsed, cut at 90 characters. */
function label(text: string): string {
  return text
    .replace(/--[^\n]*/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 90);
}

/** Counts the statements every `pg.Client` of this process sends, while on. */
class StatementCounter {
  private readonly counts = new Map<string, number>();
  private original: typeof pg.Client.prototype.query | undefined;

  start(): void {
    const counts = this.counts;
    const original = (this.original = pg.Client.prototype.query);
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const first = args[0];
      const text = typeof first === "string" ? first : ((first as { text?: string } | undefined)?.text ?? "?");
      const key = label(text);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
  }

  stop(): Record<string, number> {
    if (this.original) pg.Client.prototype.query = this.original;
    return Object.fromEntries([...this.counts].sort((a, b) => b[1] - a[1]));
  }
}

class FlowCosts implements CostMeter<Costs> {
  private cpu = process.cpuUsage();
  private server: number | undefined;
  private emulator: number | undefined;
  private commands: Map<string, { calls: number; usec: number }> | undefined;
  private statements: StatementCounter | undefined;
  private readonly redis;

  constructor(private readonly params: ChildParams) {
    this.redis = params.backend === "redis" || params.backend === "sqs" ? connect(params.redisUrl) : undefined;
  }

  private async serverCpu(): Promise<number | undefined> {
    if (this.redis) return serverCpuUs(this.redis);
    return this.params.backend === "postgres" ? postgresCpuUs() : undefined;
  }

  async start(): Promise<void> {
    if (this.params.details && this.redis) this.commands = await commandStats(this.redis);
    if (this.params.details && this.params.backend === "postgres") (this.statements = new StatementCounter()).start();
    this.server = await this.serverCpu();
    this.emulator = this.params.emulatorPid === undefined ? undefined : processCpuUs(this.params.emulatorPid);
    this.cpu = process.cpuUsage();
  }

  async stop(jobs: number): Promise<Costs> {
    const cpu = process.cpuUsage(this.cpu);
    const emulator = this.params.emulatorPid === undefined ? undefined : processCpuUs(this.params.emulatorPid);
    const server = await this.serverCpu();
    const costs: Costs = { nodeCpuUsPerJob: (cpu.user + cpu.system) / jobs };
    if (server !== undefined && this.server !== undefined) costs.serverCpuUsPerJob = (server - this.server) / jobs;
    if (emulator !== undefined && this.emulator !== undefined) costs.emulatorCpuUsPerJob = (emulator - this.emulator) / jobs;
    if (this.commands && this.redis) costs.serverCommands = commandsSince(this.commands, await commandStats(this.redis));
    if (this.statements) costs.statements = this.statements.stop();
    this.redis?.disconnect();
    return costs;
  }
}

/** Runs one scenario on one variant, closes it and deletes what it wrote. */
export async function measure(params: ChildParams): Promise<Measurement> {
  const library = await openFlowLibrary(params.backend, params.variant, params, params.prefix);
  try {
    try {
      return await measureScenario(library, params, { costs: () => new FlowCosts(params), unfinished: () => library.unfinished() });
    } finally {
      await library.close();
    }
  } finally {
    await library.cleanup();
  }
}
