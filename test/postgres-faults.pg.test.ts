// Faults with real worker processes (`errand work`, spawned as users run it) on PostgreSQL:
// kill -9 mid-run, every connection terminated by the server, SIGTERM mid-run, bad rows.
// Each case counts its jobs and the jobs lost, and asserts none were lost.
//
// This is a *.pg.test.ts because it reads raw rows: "lost" is judged on `"<schema>".jobs`
// itself (`state`, `executions`), the ground truth no portable API can vouch for. Runs are
// counted from a file the jobs write to (see fixtures/postgres-faults/jobs.mjs): a lease
// that expires uncounts `executions`, so the table alone cannot say what ran twice.
//
// The test's own connections use application_name "errand-faults-test", so terminating
// "errand" and "errand-listener" backends spares them; the worker's are told from other
// files' by the schema in their last statement (see workerBackends).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { PostgresAdapter } from "@errand/adapter-postgres";
import { configure, performAllLater } from "@errand/core";
import { waitFor } from "@errand/core/testing";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";

import { SlowJob, TickJob } from "./fixtures/postgres-faults/jobs.mjs";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";
import { countRuns, printSummary, WorkerProcess } from "./support/worker-process.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CONFIG = join(ROOT, "test/fixtures/postgres-faults/errand.config.mjs");
const RUNS_DIR = mkdtempSync(join(tmpdir(), "errand-pg-faults-"));

const url = postgresUrl();
const db = new pg.Pool({ connectionString: url, max: 4, application_name: "errand-faults-test" });
const schemas: string[] = [];

afterEach(() => WorkerProcess.killAll());

afterAll(async () => {
  await db.end();
  await dropSchemas(url, schemas);
  rmSync(RUNS_DIR, { recursive: true, force: true });
});

/** A new schema for one case, dropped after the file. */
function newSchema(): string {
  const schema = schemaName("errand_faults");
  schemas.push(schema);
  return schema;
}


function runsFile(schema: string): string {
  return join(RUNS_DIR, `${schema}.runs`);
}

/** Runs recorded by the jobs of a schema: how many in all, and of how many distinct jobs. */
function runs(schema: string): { total: number; distinct: number } {
  const { total, distinct } = countRuns(runsFile(schema));
  return { total, distinct };
}

/** An `errand work` process on `schema`. */
function startWorker(schema: string, concurrency: number): WorkerProcess {
  return new WorkerProcess(CONFIG, concurrency, { DATABASE_URL_FOR_TEST: url, ERRAND_TEST_SCHEMA: schema, ERRAND_TEST_RUNS: runsFile(schema) });
}

/** Enqueues `count` jobs (arguments first…first+count-1) through the adapter, on the test's own pool. */
async function enqueue(schema: string, jobClass: typeof TickJob | typeof SlowJob, count: number, first = 0): Promise<void> {
  const runtime = configure({ adapter: new PostgresAdapter({ pool: db, schema }) });
  try {
    await performAllLater(Array.from({ length: count }, (_, n) => new jobClass(first + n)));
  } finally {
    await runtime.close();
  }
}

interface Tally {
  /** Rows per state. */
  states: Record<string, number>;
  rows: number;
  /** Sum of the `executions` column. */
  executions: number;
}

async function tally(schema: string): Promise<Tally> {
  const { rows } = await db.query<{ state: string; n: string; executions: string }>(
    `SELECT state, count(*) AS n, sum(executions) AS executions FROM "${schema}".jobs GROUP BY state`,
  );
  return {
    states: Object.fromEntries(rows.map((row) => [row.state, Number(row.n)])),
    rows: rows.reduce((sum, row) => sum + Number(row.n), 0),
    executions: rows.reduce((sum, row) => sum + Number(row.executions), 0),
  };
}

/**
 * The worker's backends on `schema`. Other test files run at the same time and their
 * adapters use the same application_names, so a backend is the worker's only if its last
 * statement names this file's schema (every statement the adapter sends does, LISTEN too).
 */
async function workerBackends(schema: string): Promise<{ pid: number; application_name: string }[]> {
  const { rows } = await db.query<{ pid: number; application_name: string }>(
    `SELECT pid, application_name FROM pg_stat_activity
     WHERE application_name IN ('errand', 'errand-listener') AND datname = current_database()
       AND pid <> pg_backend_pid() AND strpos(query, $1) > 0`,
    [schema],
  );
  return rows;
}

/** Terminates the worker's backends from the server side; returns their pids. */
async function terminateWorkerBackends(schema: string): Promise<number[]> {
  // In the select list, pg_terminate_backend runs only on rows that passed the WHERE.
  const { rows } = await db.query<{ pid: number; terminated: boolean }>(
    `SELECT pid, pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
     WHERE application_name IN ('errand', 'errand-listener') AND datname = current_database()
       AND pid <> pg_backend_pid() AND strpos(query, $1) > 0`,
    [schema],
  );
  return rows.filter((row) => row.terminated).map((row) => row.pid);
}

const succeeded = async (schema: string) => (await tally(schema)).states.succeeded ?? 0;

/** Waits until at least `count` jobs of `schema` have succeeded. */
async function untilSucceeded(schema: string, count: number, worker: WorkerProcess, timeoutMs: number): Promise<void> {
  try {
    await waitFor(async () => (await succeeded(schema)) >= count, { timeoutMs, intervalMs: 25, message: `${count} jobs succeeded` });
  } catch (error) {
    throw new Error(`${(error as Error).message}; rows: ${JSON.stringify((await tally(schema)).states)}\n${worker.tail()}`);
  }
}

/** Jobs not `succeeded` at the end: in another state, or missing from the table. */
function lost(jobs: number, end: Tally): number {
  return jobs - (end.states.succeeded ?? 0);
}

/** The one-line summary of a case, to quote. */
function summary(name: string, fields: Record<string, number | string>): void {
  printSummary("postgres", name, fields);
}

describe("postgres faults with real worker processes", () => {
  it("kill -9 mid-run, 10,000 jobs: a second worker finishes them, none lost, stranded jobs run again", async () => {
    const jobs = 10_000;
    const schema = newSchema();
    const started = performance.now();
    await enqueue(schema, TickJob, jobs);
    const enqueuedMs = performance.now() - started;

    const first = startWorker(schema, 20);
    await untilSucceeded(schema, 3_000, first, 30_000);
    first.child.kill("SIGKILL");
    expect((await first.exit(5_000)).signal).toBe("SIGKILL");
    const atKill = await tally(schema);
    // Reserved by the dead worker (running or in its buffer): back only when the lease expires.
    const stranded = atKill.states.running ?? 0;
    expect(atKill.rows).toBe(jobs);

    const second = startWorker(schema, 20);
    await untilSucceeded(schema, jobs, second, 60_000);
    const drainedMs = performance.now() - started;
    await second.stop();

    const end = await tally(schema);
    const ran = runs(schema);
    expect(end.states).toEqual({ succeeded: jobs });
    expect(end.rows).toBe(jobs);
    expect(ran.distinct).toBe(jobs);
    expect(ran.total).toBeGreaterThanOrEqual(jobs);
    expect(lost(jobs, end)).toBe(0);
    summary("kill -9", {
      jobs,
      succeeded: end.states.succeeded ?? 0,
      lost: lost(jobs, end),
      "succeeded at kill": atKill.states.succeeded ?? 0,
      "stranded at kill": stranded,
      "ran twice (runs recorded)": ran.total - jobs,
      "ran twice (sum of executions)": end.executions - jobs,
      "enqueue ms": Math.round(enqueuedMs),
      "total ms": Math.round(drainedMs),
    });
  }, 100_000);

  it("the server terminates the worker's connections twice mid-run and once while idle: it reconnects and finishes, none lost", async () => {
    const jobs = 5_000;
    const late = 500;
    const schema = newSchema();
    const started = performance.now();
    await enqueue(schema, TickJob, jobs);

    const worker = startWorker(schema, 10);
    const terminated: number[] = [];
    for (const threshold of [1_000, 3_000]) {
      await untilSucceeded(schema, threshold, worker, 30_000);
      const pids = await terminateWorkerBackends(schema);
      terminated.push(pids.length);
      // Nothing to prove if the worker had no connection open at that moment.
      expect(pids.length).toBeGreaterThan(0);
    }
    await untilSucceeded(schema, jobs, worker, 60_000);
    const drainedMs = performance.now() - started;

    // Idle, the worker waits on its LISTEN connection: cut it and the pool, then give it work.
    await waitFor(async () => (await workerBackends(schema)).some((row) => row.application_name === "errand-listener"), {
      timeoutMs: 10_000,
      message: "the idle worker's LISTEN connection",
    });
    const idlePids = await terminateWorkerBackends(schema);
    terminated.push(idlePids.length);
    await waitFor(
      async () => (await workerBackends(schema)).some((row) => row.application_name === "errand-listener" && !idlePids.includes(row.pid)),
      { timeoutMs: 10_000, message: "a new LISTEN connection after the terminated one" },
    );
    await enqueue(schema, TickJob, late, jobs);
    await untilSucceeded(schema, jobs + late, worker, 30_000);
    expect(worker.child.exitCode, worker.tail()).toBeNull();
    await worker.stop();

    const total = jobs + late;
    const end = await tally(schema);
    const ran = runs(schema);
    expect(end.states).toEqual({ succeeded: total });
    expect(end.rows).toBe(total);
    expect(ran.distinct).toBe(total);
    expect(lost(total, end)).toBe(0);
    summary("connections terminated", {
      jobs: total,
      succeeded: end.states.succeeded ?? 0,
      lost: lost(total, end),
      "backends terminated (1,000 done + 3,000 done + idle)": terminated.join("+"),
      "worker error lines": worker.stderr.split("\n").filter((line) => line.includes("worker error")).length,
      "ran twice (runs recorded)": ran.total - total,
      "ran twice (sum of executions)": end.executions - total,
      "5,000 drained ms": Math.round(drainedMs),
      "total ms": Math.round(performance.now() - started),
    });
  }, 100_000);

  it("SIGTERM mid-run: the worker exits 0 by itself, unfinished jobs are handed back, a second worker drains them, none lost", async () => {
    const jobs = 200;
    const schema = newSchema();
    const started = performance.now();
    await enqueue(schema, SlowJob, jobs);

    const first = startWorker(schema, 10);
    await untilSucceeded(schema, 30, first, 30_000);
    await first.stop();
    const stopped = first.stdout.match(/stopped: (\d+) job\(s\) processed, (\d+) released back/);
    expect(stopped, first.tail()).not.toBeNull();

    const afterStop = await tally(schema);
    const { rows: handedBack } = await db.query<{ executions: number; worker_id: string | null; lease_token: string | null }>(
      `SELECT executions, worker_id, lease_token FROM "${schema}".jobs WHERE state = 'available'`,
    );
    expect(afterStop.states.running ?? 0).toBe(0);
    expect(Object.keys(afterStop.states).filter((state) => state !== "succeeded" && state !== "available")).toEqual([]);
    expect((afterStop.states.succeeded ?? 0) + (afterStop.states.available ?? 0)).toBe(jobs);
    expect(afterStop.rows).toBe(jobs);
    expect(afterStop.states.available).toBeGreaterThan(0);
    // A hand-back uncounts the start and drops the lease: the job is as it was enqueued.
    expect(handedBack.every((row) => row.executions === 0 && row.lease_token === null)).toBe(true);

    const second = startWorker(schema, 10);
    await untilSucceeded(schema, jobs, second, 30_000);
    const drainedMs = performance.now() - started;
    await second.stop();

    const end = await tally(schema);
    const ran = runs(schema);
    expect(end.states).toEqual({ succeeded: jobs });
    expect(ran.distinct).toBe(jobs);
    // Running jobs finished within the grace and the rest never started: nothing ran twice.
    expect(ran.total).toBe(jobs);
    expect(lost(jobs, end)).toBe(0);
    summary("SIGTERM", {
      jobs,
      succeeded: end.states.succeeded ?? 0,
      lost: lost(jobs, end),
      "succeeded at stop": afterStop.states.succeeded ?? 0,
      "available at stop (released + never reserved)": afterStop.states.available ?? 0,
      "worker said processed/released": `${stopped![1]}/${stopped![2]}`,
      "ran twice (runs recorded)": ran.total - jobs,
      "ran twice (sum of executions)": end.executions - jobs,
      "total ms": Math.round(drainedMs),
    });
  }, 60_000);

  it("a row whose body is not JSON and a row naming an unregistered job end dead with the reason; 100 good jobs succeed", async () => {
    const jobs = 100;
    const schema = newSchema();
    const started = performance.now();
    await enqueue(schema, TickJob, jobs);
    const malformed = "0b6e2f54-5f1c-4d8e-9a43-1f0c7a9d0001";
    const unknown = "0b6e2f54-5f1c-4d8e-9a43-1f0c7a9d0002";
    const now = new Date().toISOString();
    const ghost = { v: 1, job: "GhostJob", id: unknown, queue: "default", priority: 0, args: { json: [] }, executions: 0, enqueuedAt: now, runAt: now };
    await db.query(
      `INSERT INTO "${schema}".jobs (id, job, queue, run_at, state, body, enqueued_at)
       VALUES ($1, 'raw', 'default', now(), 'available', $2, now()), ($3, 'GhostJob', 'default', now(), 'available', $4, now())`,
      [malformed, "{this is not json", unknown, JSON.stringify(ghost)],
    );

    const worker = startWorker(schema, 5);
    try {
      await waitFor(
        async () => {
          const { states } = await tally(schema);
          return states.succeeded === jobs && states.dead === 2;
        },
        { timeoutMs: 30_000, intervalMs: 25, message: `${jobs} succeeded and 2 dead` },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; rows: ${JSON.stringify((await tally(schema)).states)}\n${worker.tail()}`);
    }
    const drainedMs = performance.now() - started;
    await worker.stop();

    const { rows: dead } = await db.query<{ id: string; error: { message: string; code?: string } }>(
      `SELECT id, error FROM "${schema}".jobs WHERE state = 'dead' ORDER BY id`,
    );
    expect(dead).toEqual([
      { id: malformed, error: expect.objectContaining({ message: expect.stringMatching(/^malformed payload: not JSON/) }) },
      { id: unknown, error: expect.objectContaining({ message: expect.stringMatching(/^unknown job class "GhostJob"/) }) },
    ]);
    const end = await tally(schema);
    expect(end.states).toEqual({ succeeded: jobs, dead: 2 });
    expect(runs(schema)).toEqual({ total: jobs, distinct: jobs });
    expect(lost(jobs, end)).toBe(0);
    summary("bad rows", {
      jobs,
      succeeded: end.states.succeeded ?? 0,
      lost: lost(jobs, end),
      dead: end.states.dead ?? 0,
      "dead reasons": dead.map((row) => JSON.stringify(row.error.message)).join(" | "),
      "total ms": Math.round(drainedMs),
    });
  }, 60_000);
});
