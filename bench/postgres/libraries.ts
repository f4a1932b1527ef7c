/**
 * The three PostgreSQL job libraries behind one small interface, each configured with its
 * documented fast settings (see README.md, "Settings"). Every library gets its own schema,
 * dropped before each measurement and created again by the library's own migrations.
 *
 * Jobs carry one number `n`; `onStart(n)` is called when the library calls the job's
 * function (Errand's `perform`, graphile-worker's task, pg-boss's handler).
 */
import pg from "pg";

import type { Tuning } from "../lib/compare.js";
import type { AdapterCallEvents } from "../lib/scenarios.js";

export type LibraryName = "errand" | "graphile-worker" | "pg-boss";
export const LIBRARIES: readonly LibraryName[] = ["errand", "graphile-worker", "pg-boss"];

/** Per-library settings the harness may override (`--tune '{"graphile-worker":{"localQueueSize":100}}'`), for trying settings. */
export type { Tuning } from "../lib/compare.js";

/** What a scenario does with a library. */
export interface Library {
  readonly name: LibraryName;
  /** The settings in use, for the JSON. */
  readonly settings: Record<string, unknown>;
  /**
   * The latency scenario waits a random 0–`latencyGapMs` before each enqueue, so enqueues do
   * not fall in step with a polling loop (a library woken by NOTIFY does not care).
   */
  readonly latencyGapMs: number;
  /** Enqueues jobs `from` … `from + count - 1` in one call of the library's bulk API. */
  enqueueBulk(from: number, count: number): Promise<void>;
  /** Enqueues one job (the library's single-job API). */
  enqueueOne(n: number): Promise<void>;
  /** Starts workers at `concurrency`. */
  startWorkers(concurrency: number, onStart: (n: number) => void): Promise<void>;
  /** Stops the workers (finishing what they hold); the library stays open for enqueues. */
  stopWorkers(): Promise<void>;
  /** A statement that returns one row while some job is not yet recorded as finished. */
  readonly unfinishedSql: string;
  /** Stops workers and ends every connection. */
  close(): Promise<void>;
  /** Errand only: its runtime's events, for `adapter:call` timings. */
  readonly events?: AdapterCallEvents;
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SET client_min_messages = warning");
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

const number = (tuning: Tuning, key: string, fallback: number) => (typeof tuning[key] === "number" ? (tuning[key] as number) : fallback);

// --- Errand -------------------------------------------------------------------------

/**
 * Errand through its public API: `configure({ adapter: { use: "postgres" } })`, `performLater`,
 * `performAllLater`, `new Worker({ concurrency })`. Loaded lazily so the peers' side runs
 * even when `@errand/adapter-postgres` is not built (the Errand column then says n/a).
 */
async function errand(url: string, tuning: Tuning): Promise<Library> {
  const schema = "bench_errand";
  const core = await import("@errand/core");
  let onStart: (n: number) => void = () => {};
  class NoopJob extends core.Job<[n: number], void> {
    static override jobName = "NoopJob";
    async perform(n: number): Promise<void> {
      onStart(n);
    }
  }
  await dropSchema(url, schema);
  const poolSize = number(tuning, "poolSize", 10);
  const adapter = { use: "postgres", url, schema, poolSize };
  const runtime = core.configure({ adapter, jobs: [NoopJob], worker: { embedded: false } });
  // Builds the adapter (this is where a missing @errand/adapter-postgres fails) and migrates.
  await (await runtime.adapterFor()).migrate();
  let worker: InstanceType<typeof core.Worker> | undefined;
  const workerOptions: Record<string, number> = {};
  if (typeof tuning.prefetch === "number") workerOptions.prefetch = tuning.prefetch;
  return {
    name: "errand",
    settings: { adapter: { use: "postgres", schema, poolSize }, worker: { ...workerOptions, concurrency: "per figure" } },
    latencyGapMs: 2,
    enqueueBulk: async (from, count) => {
      await core.performAllLater(Array.from({ length: count }, (_, i) => new NoopJob(from + i)));
    },
    enqueueOne: async (n) => {
      await NoopJob.performLater(n);
    },
    startWorkers: async (concurrency, handler) => {
      onStart = handler;
      worker = new core.Worker({ runtime, concurrency, ...workerOptions });
      await worker.start();
    },
    stopWorkers: async () => {
      await worker?.stop();
      worker = undefined;
    },
    unfinishedSql: `SELECT 1 FROM "${schema}".jobs WHERE state IN ('available', 'running') LIMIT 1`,
    events: runtime.events,
    close: async () => {
      await worker?.stop();
      await runtime.close();
    },
  };
}

// --- graphile-worker ----------------------------------------------------------------

async function graphile(url: string, tuning: Tuning): Promise<Library> {
  const { Logger, makeWorkerUtils, run } = await import("graphile-worker");
  const schema = "bench_graphile";
  await dropSchema(url, schema);
  const logger = new Logger(() => () => {});
  const utils = await makeWorkerUtils({ connectionString: url, schema, logger });
  await utils.migrate();
  // Its performance page's batching: jobs fetched into a local queue and completions
  // batched (https://worker.graphile.org/docs/performance). Pool: its recommended
  // max(10, concurrency + 2).
  const localQueueSize = number(tuning, "localQueueSize", 500);
  const completeJobBatchDelay = number(tuning, "completeJobBatchDelay", 0);
  const pollInterval = number(tuning, "pollInterval", 1000);
  let runner: Awaited<ReturnType<typeof run>> | undefined;
  return {
    name: "graphile-worker",
    settings: {
      pollInterval,
      maxPoolSize: "max(10, concurrency + 2)",
      localQueue: localQueueSize > 0 ? { size: localQueueSize } : "off",
      completeJobBatchDelay,
      failJobBatchDelay: completeJobBatchDelay,
    },
    latencyGapMs: 2,
    enqueueBulk: async (from, count) => {
      await utils.addJobs(Array.from({ length: count }, (_, i) => ({ identifier: "noop", payload: { n: from + i } })));
    },
    enqueueOne: async (n) => {
      await utils.addJob("noop", { n });
    },
    startWorkers: async (concurrency, onStart) => {
      runner = await run({
        connectionString: url,
        schema,
        concurrency,
        maxPoolSize: Math.max(10, concurrency + 2),
        logger,
        noHandleSignals: true,
        pollInterval,
        taskList: { noop: async (payload) => onStart((payload as { n: number }).n) },
        preset: {
          worker: {
            ...(localQueueSize > 0 ? { localQueue: { size: localQueueSize } } : {}),
            completeJobBatchDelay,
            failJobBatchDelay: completeJobBatchDelay,
          },
        },
      });
    },
    stopWorkers: async () => {
      await runner?.stop();
      runner = undefined;
    },
    // Completed jobs are deleted.
    unfinishedSql: `SELECT 1 FROM "${schema}"._private_jobs LIMIT 1`,
    close: async () => {
      await runner?.stop();
      await utils.release();
    },
  };
}

// --- pg-boss ------------------------------------------------------------------------

async function pgBoss(url: string, tuning: Tuning): Promise<Library> {
  const { default: PgBoss } = await import("pg-boss");
  const schema = "bench_pgboss";
  await dropSchema(url, schema);
  const boss = new PgBoss({ connectionString: url, schema, max: 10 });
  boss.on("error", () => undefined);
  await boss.start();
  await boss.createQueue("noop");
  // v10 has no per-worker concurrency option: a `work()` loop fetches `batchSize` jobs,
  // hands them to the handler together, completes them, and polls again after
  // `pollingIntervalSeconds` (0.5 s is its minimum). Concurrency c = c loops; each takes a
  // batch and runs its jobs one after another, so at most c jobs run at once.
  const pollingIntervalSeconds = number(tuning, "pollingIntervalSeconds", 0.5);
  const batchSize = number(tuning, "batchSize", 100);
  const workers: string[] = [];
  return {
    name: "pg-boss",
    settings: { max: 10, work: { loops: "concurrency", batchSize, pollingIntervalSeconds } },
    latencyGapMs: pollingIntervalSeconds * 1000,
    enqueueBulk: async (from, count) => {
      await boss.insert(Array.from({ length: count }, (_, i) => ({ name: "noop", data: { n: from + i } })));
    },
    enqueueOne: async (n) => {
      await boss.send("noop", { n });
    },
    startWorkers: async (concurrency, onStart) => {
      for (let loop = 0; loop < concurrency; loop++) {
        workers.push(
          await boss.work<{ n: number }>("noop", { batchSize, pollingIntervalSeconds }, async (jobs) => {
            for (const job of jobs) await onStart(job.data.n);
          }),
        );
      }
    },
    stopWorkers: async () => {
      // offWork returns before its loops have stopped: give a loop in its poll pause or fetch time to end.
      await boss.offWork("noop");
      await new Promise((resolve) => setTimeout(resolve, pollingIntervalSeconds * 1000 + 200));
      workers.length = 0;
    },
    unfinishedSql: `SELECT 1 FROM "${schema}".job WHERE name = 'noop' AND state < 'completed' LIMIT 1`,
    close: async () => {
      await boss.stop({ graceful: false, wait: true });
    },
  };
}

/** Opens a library on a freshly dropped schema (its migrations run here, untimed). */
export function openLibrary(name: LibraryName, url: string, tuning: Tuning = {}): Promise<Library> {
  if (name === "errand") return errand(url, tuning);
  if (name === "graphile-worker") return graphile(url, tuning);
  return pgBoss(url, tuning);
}

/** Why Errand cannot run, or undefined when `@errand/adapter-postgres` is built and loads. */
export async function errandUnavailable(specifier = "@errand/adapter-postgres"): Promise<string | undefined> {
  try {
    await import(specifier);
    return undefined;
  } catch (error) {
    return `n/a (adapter not built: ${(error as Error).message.split("\n")[0]})`;
  }
}
