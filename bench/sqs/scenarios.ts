/**
 * The measurements, child side: each runs in its own `node --expose-gc` process (see
 * run.ts) on a library opened under a fresh queue-name prefix, returns plain numbers, and
 * deletes that prefix's queues before it exits.
 */
import { measureScenario, type CostMeter, type Scenario, type ScenarioMeasurement, type ScenarioParams } from "../lib/scenarios.js";
import { connect, deleteKeys, serverCpuUs } from "../redis/store.js";
import { openLibrary, statusPrefix, type Handler, type LibraryName, type Tuning } from "./libraries.js";
import { deleteQueues, messagesLeft, processCpuUs, queueUrl, sqsClient } from "./store.js";

/** A shared scenario, plus which sqs-consumer handler runs it (Errand has one way: the field changes nothing for it). */
export type SqsScenario = Scenario & { handler?: Handler };

export interface ChildParams extends ScenarioParams {
  library: LibraryName;
  scenario: SqsScenario;
  endpoint: string;
  /** Every queue the library creates starts with `prefix`; the child deletes them at the end. */
  prefix: string;
  /** The emulator's process, when it runs on this machine (its CPU per job). */
  emulatorPid?: number;
  tuning?: Tuning;
}

export interface Measurement extends ScenarioMeasurement {
  /** CPU time of the emulator's process during the timed part, µs per job (the whole process: other clients count too). */
  emulatorCpuUsPerJob?: number;
  /** With the Redis status store (`tuning.status: "redis"`): redis-server's CPU time during the timed part, µs per job (the whole server: other clients count too). */
  redisCpuUsPerJob?: number;
  /** Queues the child deleted under its prefix at the end. */
  queuesDeleted?: number;
}

type Costs = Pick<Measurement, "nodeCpuUsPerJob" | "emulatorCpuUsPerJob" | "redisCpuUsPerJob">;

/** CPU of this process and, when it is on this machine, of the emulator, and of redis-server when given its client, from `start()` to `stop(jobs)`. */
class CpuCosts implements CostMeter<Costs> {
  private cpu = process.cpuUsage();
  private emulator: number | undefined;
  private redisUs = 0;

  constructor(
    private readonly emulatorPid: number | undefined,
    private readonly redis: ReturnType<typeof connect> | undefined,
  ) {}

  async start(): Promise<void> {
    this.emulator = this.emulatorPid === undefined ? undefined : processCpuUs(this.emulatorPid);
    if (this.redis) this.redisUs = await serverCpuUs(this.redis);
    this.cpu = process.cpuUsage();
  }

  async stop(jobs: number): Promise<Costs> {
    const cpu = process.cpuUsage(this.cpu);
    const costs: Costs = { nodeCpuUsPerJob: (cpu.user + cpu.system) / jobs };
    const emulator = this.emulatorPid === undefined ? undefined : processCpuUs(this.emulatorPid);
    if (this.emulator !== undefined && emulator !== undefined) costs.emulatorCpuUsPerJob = (emulator - this.emulator) / jobs;
    if (this.redis) costs.redisCpuUsPerJob = ((await serverCpuUs(this.redis)) - this.redisUs) / jobs;
    return costs;
  }
}

/** Runs one scenario on one library under `params.prefix`, closes it and deletes the prefix's queues. */
export async function measure(params: ChildParams): Promise<Measurement> {
  const sqs = sqsClient(params.endpoint);
  // The bench's own connection to the Redis status store's server: its CPU, and its keys deleted at the end.
  const redis = params.tuning?.status === "redis" ? connect() : undefined;
  try {
    let result: Measurement;
    const library = await openLibrary(params.library, params.endpoint, params.prefix, params.scenario.handler, params.tuning ?? {});
    try {
      // Errand creates its queue on the first enqueue: its URL is looked up when first needed.
      let url: string | undefined;
      result = await measureScenario(library, params, {
        costs: () => new CpuCosts(params.emulatorPid, redis),
        // A job is finished once the library deleted its message: nothing ready, in flight or delayed is left.
        unfinished: async () => (await messagesLeft(sqs, (url ??= await queueUrl(sqs, library.queueName)))) > 0,
      });
    } finally {
      await library.close();
    }
    result.queuesDeleted = await deleteQueues(sqs, params.prefix);
    return result;
  } catch (error) {
    await deleteQueues(sqs, params.prefix).catch(() => undefined);
    throw error;
  } finally {
    sqs.destroy();
    if (redis) {
      await deleteKeys(redis, statusPrefix(params.prefix), { hashTag: true });
      await redis.quit();
    }
  }
}
