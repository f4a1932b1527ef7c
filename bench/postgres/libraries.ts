/**
 * The three PostgreSQL job libraries behind one small interface, each configured with its
 * documented fast settings (see README.md, "Settings"). The same-batch drains (run.ts) set
 * each library's batch size through its tuning key: Errand `prefetch`, graphile-worker
 * `localQueueSize`, pg-boss `batchSize`; nothing else changes. Every library gets its own schema,
 * dropped before each measurement and created again by the library's own migrations.
 *
 * Jobs carry one number `n`; `onStart(n)` is called when the library calls the job's
 * function (Errand's `perform`, graphile-worker's task, pg-boss's handler).
 */
import pg from "pg";

import type { Tuning } from "../lib/compare.js";
import { openErrand, type ErrandLibrary } from "../lib/errand.js";
import type { BenchLibrary } from "../lib/scenarios.js";

export type LibraryName = "errand" | "graphile-worker" | "pg-boss";
export const LIBRARIES: readonly LibraryName[] = ["errand", "graphile-worker", "pg-boss"];

/** Per-library settings the harness may override (`--tune '{"graphile-worker":{"localQueueSize":100}}'`), for trying settings. */
export type { Tuning } from "../lib/compare.js";

/** What a scenario does with a library. */
export interface Library extends BenchLibrary<LibraryName> {
  /** A statement that returns one row while some job is not yet recorded as finished. */
  readonly unfinishedSql: string;
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

/** Errand-postgres (see ../lib/errand.ts) on a schema of its own, its pool at `poolSize` (tunable). */
async function errand(url: string, tuning: Tuning): Promise<Library> {
  const schema = "bench_errand";
  await dropSchema(url, schema);
  const poolSize = number(tuning, "poolSize", 10);
  const library = await openErrand({ use: "postgres", url, schema, poolSize }, { use: "postgres", schema, poolSize }, tuning);
  // `--tune '{"errand":{"countTriggers":false}}'`: migration 014's count triggers off, to
  // measure what they cost the drain (an A/B; the counts are then wrong).
  if (tuning.countTriggers === false) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const name of ["jobs_count_inserted", "jobs_count_updated", "jobs_count_deleted"]) await client.query(`ALTER TABLE "${schema}".jobs DISABLE TRIGGER ${name}`);
    } finally {
      await client.end();
    }
  }
  const inBatch = tuning.batch === true ? batchDrain(library) : {};
  return { ...library, ...inBatch, unfinishedSql: `SELECT 1 FROM "${schema}".jobs WHERE state IN ('available', 'running') LIMIT 1` };
}

/**
 * `--tune '{"errand":{"batch":true}}'` (batch-drain.ts): each bulk enqueue is one `batch()`
 * (migration 019) with an `onComplete` callback, so the drain counts every settle into the
 * batch and the last one inserts the callback. The callback is a `NoopJob` of argument −1,
 * run by the workers (the drain ends when it is finished too) but not counted as a start.
 */
function batchDrain(library: ErrandLibrary): Pick<Library, "enqueueBulk" | "startWorkers"> {
  return {
    enqueueBulk: library.enqueueBatch,
    startWorkers: (concurrency, handler) => library.startWorkers(concurrency, (n) => (n >= 0 ? handler(n) : undefined)),
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
