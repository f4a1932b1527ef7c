// Faults with real worker processes (`errand work`) on PostgreSQL: kill -9, connections
// terminated by the server, SIGTERM, bad rows. Each case counts jobs and jobs lost. This is
// a *.pg.test.ts because it reads raw rows: the jobs table is the ground truth for "lost".
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";

import { configure, performAllLater } from "@errand/core";
import { PostgresAdapter } from "@errand/adapter-postgres";
import { waitFor } from "@errand/core/testing";

import { SlowJob, TickJob } from "./fixtures/pg-worker/jobs.mjs";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";

const url = postgresUrl();
const CLI = fileURLToPath(new URL("../packages/core/dist/cli/main.js", import.meta.url));
const CONFIG = fileURLToPath(new URL("./fixtures/pg-worker/errand.config.mjs", import.meta.url));
const schemas: string[] = [];
const children: ChildProcess[] = [];
const admin = new pg.Pool({ connectionString: url, max: 2, application_name: "errand-test-admin" });
const runsDir = mkdtempSync(join(tmpdir(), "errand-runs-"));

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});
afterAll(async () => {
  await admin.end();
  await dropSchemas(url, schemas);
  rmSync(runsDir, { recursive: true, force: true });
});

interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** A worker process; its jobs append every run to the schema's runs file. */
function startWorker(schema: string, concurrency: number): WorkerProcess {
  const child = spawn(process.execPath, [CLI, "work", "--config", CONFIG, "-c", String(concurrency)], {
    env: {
      ...process.env,
      ERRAND_TEST_DATABASE_URL: url,
      ERRAND_TEST_SCHEMA: schema,
      ERRAND_TEST_RUNS_FILE: join(runsDir, schema),
      ERRAND_URL: "",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited };
}

/** Runs recorded by the jobs of a schema (a job run twice counts twice). */
function runs(schema: string): number {
  return readFileSync(join(runsDir, schema), "utf8").split("\n").filter(Boolean).length;
}

/** Enqueues `count` jobs of `jobClass` in the schema, through the adapter. */
async function enqueue(schema: string, jobClass: typeof TickJob, count: number) {
  const adapter = new PostgresAdapter({ url, schema, poolSize: 2 });
  const runtime = configure({ adapter, worker: { embedded: false } });
  await adapter.migrate();
  for (let start = 0; start < count; start += 1000) {
    await performAllLater(Array.from({ length: Math.min(1000, count - start) }, (_, i) => new jobClass(start + i)));
  }
  await runtime.close();
}

async function counts(schema: string): Promise<Record<string, number>> {
  const { rows } = await admin.query<{ state: string; n: string }>(`SELECT state, count(*) AS n FROM "${schema}".jobs GROUP BY state`);
  return Object.fromEntries(rows.map((row) => [row.state, Number(row.n)]));
}

function report(name: string, jobs: number, state: Record<string, number>, schema: string) {
  const lost = jobs - (state.succeeded ?? 0);
  console.log(`${name}: ${jobs} jobs, ${state.succeeded ?? 0} succeeded, ${lost} lost, ${runs(schema) - jobs} ran twice`);
  return lost;
}

describe("postgres faults", () => {
  it("kill -9 of a worker mid-run: 10,000 jobs all complete, none lost", async () => {
    const schema = schemaName("errand_f");
    schemas.push(schema);
    await enqueue(schema, TickJob, 10_000);
    const first = startWorker(schema, 20);
    await waitFor(async () => ((await counts(schema)).succeeded ?? 0) >= 2_000, { timeoutMs: 30_000, message: "2,000 jobs done" });
    first.child.kill("SIGKILL");
    expect(await first.exited).toBeNull();
    const second = startWorker(schema, 20);
    await waitFor(async () => (await counts(schema)).succeeded === 10_000, { timeoutMs: 60_000, intervalMs: 50, message: "all 10,000 jobs done" });
    const state = await counts(schema);
    expect(state).toEqual({ succeeded: 10_000 });
    expect(report("kill -9", 10_000, state, schema)).toBe(0);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, 90_000);

  it("the server terminates the worker's connections mid-run: it reconnects and finishes, none lost", async () => {
    const schema = schemaName("errand_f");
    schemas.push(schema);
    await enqueue(schema, TickJob, 5_000);
    const worker = startWorker(schema, 10);
    const terminate = () =>
      admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name IN ('errand', 'errand-listener') AND datname = current_database() AND pid <> pg_backend_pid()`,
      );
    for (const threshold of [1_000, 3_000]) {
      await waitFor(async () => ((await counts(schema)).succeeded ?? 0) >= threshold, { timeoutMs: 30_000, message: `${threshold} jobs done` });
      const { rowCount } = await terminate();
      expect(rowCount).toBeGreaterThan(0);
    }
    await waitFor(async () => (await counts(schema)).succeeded === 5_000, { timeoutMs: 60_000, intervalMs: 50, message: "all 5,000 jobs done" });
    const state = await counts(schema);
    expect(state).toEqual({ succeeded: 5_000 });
    expect(report("connections terminated", 5_000, state, schema)).toBe(0);
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  }, 90_000);

  it("SIGTERM during a run: running jobs finish, the rest are handed back, none lost", async () => {
    const schema = schemaName("errand_f");
    schemas.push(schema);
    await enqueue(schema, SlowJob, 200);
    const first = startWorker(schema, 10);
    await waitFor(async () => ((await counts(schema)).succeeded ?? 0) >= 30, { timeoutMs: 30_000, message: "30 jobs done" });
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    const afterStop = await counts(schema);
    expect(afterStop.running ?? 0).toBe(0);
    expect((afterStop.succeeded ?? 0) + (afterStop.available ?? 0)).toBe(200);
    expect(afterStop.available).toBeGreaterThan(0);
    const second = startWorker(schema, 10);
    await waitFor(async () => (await counts(schema)).succeeded === 200, { timeoutMs: 30_000, message: "all 200 jobs done" });
    const state = await counts(schema);
    expect(state).toEqual({ succeeded: 200 });
    expect(report("SIGTERM", 200, state, schema)).toBe(0);
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, 60_000);

  it("a malformed row and an unknown job name go to the dead set with the reason; the worker goes on", async () => {
    const schema = schemaName("errand_f");
    schemas.push(schema);
    await enqueue(schema, TickJob, 100);
    const insert = (id: string, job: string, body: string) =>
      admin.query(
        `INSERT INTO "${schema}".jobs (id, job, queue, run_at, state, body, enqueued_at) VALUES ($1, $2, 'default', now(), 'available', $3, now())`,
        [id, job, body],
      );
    const broken = "6a0f6c9e-0b1c-4c47-9c1e-6d7c2c0e5a01";
    const unknown = "6a0f6c9e-0b1c-4c47-9c1e-6d7c2c0e5a02";
    await insert(broken, "?", "{this is not json");
    const now = new Date().toISOString();
    await insert(unknown, "GhostJob", JSON.stringify({ v: 1, job: "GhostJob", id: unknown, queue: "default", priority: 0, args: { json: [] }, executions: 0, enqueuedAt: now, runAt: now }));
    const worker = startWorker(schema, 5);
    await waitFor(async () => {
      const state = await counts(schema);
      return state.succeeded === 100 && state.dead === 2;
    }, { timeoutMs: 30_000, message: "100 done and 2 dead" });
    const { rows } = await admin.query<{ id: string; error: { message: string } }>(`SELECT id, error FROM "${schema}".jobs WHERE state = 'dead' ORDER BY id`);
    expect(rows.map((row) => [row.id, row.error.message])).toEqual([
      [broken, expect.stringMatching(/^malformed payload: not JSON/)],
      [unknown, expect.stringMatching(/^unknown job class "GhostJob" \(registered: SlowJob, TickJob\)/)],
    ]);
    expect(report("bad rows", 100, await counts(schema), schema)).toBe(0);
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  }, 60_000);
});
