/**
 * The three PostgreSQL job libraries behind one small interface, each configured with its
 * documented fast settings (see bench/postgres/README.md). Every library gets its own
 * schema, dropped and recreated before each measurement.
 */
import pg from "pg";
import { Logger, makeWorkerUtils, run, type Runner, type WorkerUtils } from "graphile-worker";
import PgBoss from "pg-boss";

import { configure, Job, performAllLater, Worker, type Runtime } from "@errand/core";
import { PostgresAdapter } from "@errand/adapter-postgres";

/** What a scenario does with a library. */
export interface Library {
  /** Enqueues `count` jobs in one bulk call (the library's own bulk API). */
  enqueueBulk(count: number): Promise<void>;
  /** Enqueues one job (the library's single-job API). */
  enqueueOne(n: number): Promise<void>;
  /** Starts workers at `concurrency`; `onStart(n)` is called as each job starts. */
  startWorkers(concurrency: number, onStart: (n: number) => void): Promise<void>;
  /** Stops workers and connections. */
  close(): Promise<void>;
}

export type LibraryName = "errand" | "graphile-worker" | "pg-boss";
export const LIBRARIES: LibraryName[] = ["errand", "graphile-worker", "pg-boss"];

async function resetSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

// --- Errand -------------------------------------------------------------------------

let onErrandStart: (n: number) => void = () => {};

class NoopJob extends Job<[n: number]> {
  static override jobName = "NoopJob";
  perform(n: number) {
    onErrandStart(n);
  }
}

async function errand(url: string): Promise<Library> {
  const schema = "bench_errand";
  await resetSchema(url, schema);
  const adapter = new PostgresAdapter({ url, schema, poolSize: 10 });
  const runtime: Runtime = configure({ adapter, jobs: [NoopJob], worker: { embedded: false } });
  await adapter.migrate();
  let worker: Worker | undefined;
  return {
    enqueueBulk: async (count) => {
      await performAllLater(Array.from({ length: count }, (_, i) => new NoopJob(i)));
    },
    enqueueOne: async (n) => {
      await NoopJob.performLater(n);
    },
    startWorkers: async (concurrency, onStart) => {
      onErrandStart = onStart;
      worker = new Worker({ runtime, concurrency });
      await worker.start();
    },
    close: async () => {
      await worker?.stop();
      await runtime.close();
    },
  };
}

// --- graphile-worker ----------------------------------------------------------------

async function graphile(url: string): Promise<Library> {
  const schema = "bench_graphile";
  await resetSchema(url, schema);
  const logger = new Logger(() => () => {});
  const utils: WorkerUtils = await makeWorkerUtils({ connectionString: url, schema, logger });
  await utils.migrate();
  let runner: Runner | undefined;
  return {
    enqueueBulk: async (count) => {
      await utils.addJobs(Array.from({ length: count }, (_, i) => ({ identifier: "noop", payload: { n: i } })));
    },
    enqueueOne: async (n) => {
      await utils.addJob("noop", { n });
    },
    startWorkers: async (concurrency, onStart) => {
      runner = await run({
        connectionString: url,
        schema,
        concurrency,
        logger,
        noHandleSignals: true,
        pollInterval: 1000,
        taskList: { noop: async (payload) => onStart((payload as { n: number }).n) },
        // Its documented batching: fetch jobs in batches, complete them in batches.
        preset: { worker: { localQueue: { size: Math.max(100, concurrency * 2) }, completeJobBatchDelay: 0 } },
      });
    },
    close: async () => {
      await runner?.stop();
      await utils.release();
    },
  };
}

// --- pg-boss ------------------------------------------------------------------------

async function pgBoss(url: string): Promise<Library> {
  const schema = "bench_pgboss";
  await resetSchema(url, schema);
  const boss = new PgBoss({ connectionString: url, schema, max: 10 });
  boss.on("error", () => undefined);
  await boss.start();
  await boss.createQueue("noop");
  return {
    enqueueBulk: async (count) => {
      await boss.insert(Array.from({ length: count }, (_, i) => ({ name: "noop", data: { n: i } })));
    },
    enqueueOne: async (n) => {
      await boss.send("noop", { n });
    },
    startWorkers: async (concurrency, onStart) => {
      // v10 has no per-worker concurrency: one polling loop fetches `batchSize` jobs and the
      // handler runs them together; its shortest polling interval is 0.5 s.
      await boss.work<{ n: number }>("noop", { batchSize: concurrency, pollingIntervalSeconds: 0.5 }, async (jobs) => {
        await Promise.all(jobs.map(async (job) => onStart(job.data.n)));
      });
    },
    close: async () => {
      await boss.stop({ graceful: false, wait: true });
    },
  };
}

/** Opens a library on a fresh schema. */
export function openLibrary(name: LibraryName, url: string): Promise<Library> {
  if (name === "errand") return errand(url);
  if (name === "graphile-worker") return graphile(url);
  return pgBoss(url);
}
