/**
 * A PostgreSQL schema as migration 009 left it, holding jobs in every state: the "previous
 * schema" of the upgrade test (test/postgres-upgrade.pg.test.ts). Frozen: the rows are
 * written with plain SQL in the 009 table shapes (the shapes 009's sql/queries write), so
 * the fixture survives the adapter code that wrote them; do not change it when a later
 * migration changes the tables. The test proves, while the adapter is 009's, that this
 * adapter reads every row as the fixture's `visible` state says.
 *
 * Times are offsets from `base` (the server's clock when the fixture is built): two live
 * leases end {@link LEASE_S} s later, and the rate window of key `api` frees up
 * {@link RATE_FREE_S} s later, so the test sees both before and after.
 *
 * @module
 */
import { randomUUID } from "node:crypto";

import pg from "pg";

import { migrate } from "@errand/adapter-postgres";
import type { JobState, QueueInfo, StatusRecord, StoredError } from "@errand/core/adapter";

/** Seconds after `base` the live leases (the plain one and the concurrency holder's) end. */
export const LEASE_S = 10;
/** Seconds after `base` the rate key `api` allows a start again (its one start leaves the window). */
export const RATE_FREE_S = 12;
/** The job class every fixture body names. */
export const JOB = "UpgradeJob";
/** The unique key the scheduled job holds, with `while: "active"`. */
export const UNIQUE_KEY = "UpgradeJob:report-42";
/** The recurring task whose last tick is the `succeeded` job's. */
export const TASK = "nightly";
/** The rate limit of key `api`: one start per 20 s. */
export const RATE = { key: "api", limit: 1, perMs: 20_000 } as const;
/** The concurrency limit the holder and the parked job share. */
export const CONCURRENCY = { key: "acct-7", limit: 1 } as const;

/** One row of the 009 jobs table, and the status the 009 adapter reads from it. */
export interface FixtureJob {
  id: string;
  queue: string;
  priority: number;
  /** The jobs table's own state. */
  state: "available" | "parked" | "running" | "succeeded" | "failed" | "dead";
  /** The state `status()` reports. */
  visible: JobState;
  /** The body column, verbatim. */
  body: string;
  /** The arguments the body decodes to (undefined for a malformed body). */
  args?: unknown[];
  executions: number;
  enqueuedAt: Date;
  runAt: Date;
  updatedAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  /** Running jobs: when the lease ends (the token comes from `lease_tokens`). */
  leaseUntil?: Date;
  progress?: { fraction: number; message?: string };
  result?: string;
  error?: StoredError;
  /** The flow column: the reserve-time part of the payload's flow. */
  flow?: { concurrency?: typeof CONCURRENCY; rateLimit?: typeof RATE };
  deferred?: boolean;
}

/** The fixture's jobs by name. */
export type FixtureJobs = Record<
  | "prioritized" | "urgent" | "plain" | "scheduled" | "retrying" | "live" | "expired" | "succeeded"
  | "failed" | "dead" | "holder" | "parked" | "deferred" | "malformed",
  FixtureJob
>;

/** The built fixture. */
export interface Fixture {
  schema: string;
  /** The server's clock when it was built. */
  base: Date;
  jobs: FixtureJobs;
  /** The recurring task's last tick. */
  lastTick: Date;
  /** The one start in key `api`'s window. */
  rateStart: Date;
}

/** superjson output of `[{ at: Date, tags: Map }, unicode]`, as core wrote it: meta kept. */
export const RICH_ARGS_WIRE = {
  json: [{ at: "2026-01-02T03:04:05.678Z", tags: [["k", 1], ["ü", 2]] }, "héllo ✓ 日本語 🎉"],
  meta: { values: { "0.at": ["Date"], "0.tags": ["map"] }, v: 1 },
};
/** What {@link RICH_ARGS_WIRE} decodes to. */
export const RICH_ARGS: unknown[] = [
  { at: new Date("2026-01-02T03:04:05.678Z"), tags: new Map<string, number>([["k", 1], ["ü", 2]]) },
  "héllo ✓ 日本語 🎉",
];
/** A superjson result text, as core stores it. */
export const RESULT = '{"json":{"ok":true,"at":"1970-01-01T00:00:00.000Z"},"meta":{"values":{"at":["Date"]},"v":1}}';

/** A wire-format v1 body, keys in core's order. */
function wire(fields: { id: string; queue: string; priority: number; args: unknown; executions: number; enqueuedAt: Date; runAt: Date; flow?: object; exceptionExecutions?: object }): string {
  const { id, queue, priority, args, executions, enqueuedAt, runAt, flow, exceptionExecutions } = fields;
  return JSON.stringify({
    v: 1,
    job: JOB,
    id,
    queue,
    priority,
    args,
    executions,
    ...(exceptionExecutions ? { exceptionExecutions } : {}),
    enqueuedAt: enqueuedAt.toISOString(),
    runAt: runAt.toISOString(),
    ...(flow ? { flow } : {}),
  });
}

/** The fixture's jobs, in the order they are inserted (their `seq` order). */
function fixtureJobs(base: Date): { jobs: FixtureJobs; lastTick: Date; rateStart: Date } {
  const at = (seconds: number) => new Date(base.getTime() + seconds * 1000);
  const job = (
    fields: Omit<FixtureJob, "id" | "body" | "updatedAt" | "executions"> & {
      updatedAt?: Date;
      executions?: number;
      bodyExecutions?: number;
      bodyRunAt?: Date;
      bodyFlow?: object;
      exceptionExecutions?: object;
      rawBody?: string;
      wireArgs?: unknown;
    },
  ): FixtureJob => {
    const id = randomUUID();
    const { bodyExecutions, bodyRunAt, bodyFlow, exceptionExecutions, rawBody, wireArgs, ...row } = fields;
    const body =
      rawBody ??
      wire({
        id,
        queue: row.queue,
        priority: row.priority,
        args: wireArgs ?? { json: row.args },
        executions: bodyExecutions ?? 0,
        enqueuedAt: row.enqueuedAt,
        runAt: bodyRunAt ?? row.runAt,
        flow: bodyFlow ?? row.flow,
        exceptionExecutions,
      });
    return { id, body, executions: 0, updatedAt: row.enqueuedAt, ...row };
  };
  const lastTick = at(-310);
  const rateStart = at(RATE_FREE_S - RATE.perMs / 1000);
  const jobs: FixtureJobs = {
    // Done before everything else: the recurring task's last tick, with result and progress.
    succeeded: job({
      queue: "video", priority: 0, state: "succeeded", visible: "succeeded", args: ["nightly"],
      enqueuedAt: lastTick, runAt: lastTick, startedAt: at(-300), finishedAt: at(-299), updatedAt: at(-299),
      executions: 1, result: RESULT, progress: { fraction: 1, message: "done" },
      bodyFlow: { recurring: { task: TASK, tick: lastTick.toISOString() } },
    }),
    dead: job({
      queue: "mail", priority: 1, state: "dead", visible: "dead", args: ["doomed"],
      enqueuedAt: at(-500), runAt: at(-410), bodyRunAt: at(-410), startedAt: at(-400), finishedAt: at(-399), updatedAt: at(-399),
      executions: 3, bodyExecutions: 2, exceptionExecutions: {},
      error: { name: "Error", message: "broken on run 3", stack: "Error: broken on run 3\n    at UpgradeJob.perform (app.js:1:1)" },
    }),
    failed: job({
      queue: "video", priority: 0, state: "failed", visible: "failed", args: ["gone"],
      enqueuedAt: at(-210), runAt: at(-210), startedAt: at(-200), finishedAt: at(-199), updatedAt: at(-199),
      executions: 1, error: { name: "GoneError", message: "record gone" },
    }),
    retrying: job({
      queue: "video", priority: 2, state: "available", visible: "retrying", args: ["again"],
      enqueuedAt: at(-120), runAt: at(-5), startedAt: at(-20), updatedAt: at(-19),
      executions: 1, bodyExecutions: 1, exceptionExecutions: {}, error: { name: "Error", message: "smtp timeout" },
    }),
    live: job({
      queue: "video", priority: 0, state: "running", visible: "running", args: ["busy"],
      enqueuedAt: at(-100), runAt: at(-100), startedAt: at(-2), updatedAt: at(-1), leaseUntil: at(LEASE_S),
      executions: 1, progress: { fraction: 0.5, message: "halfway" },
    }),
    expired: job({
      queue: "reports", priority: 0, state: "running", visible: "running", args: ["orphan"],
      enqueuedAt: at(-95), runAt: at(-95), startedAt: at(-90), updatedAt: at(-90), leaseUntil: at(-30), executions: 1,
    }),
    prioritized: job({
      queue: "mail", priority: 5, state: "available", visible: "queued", args: RICH_ARGS, wireArgs: RICH_ARGS_WIRE,
      enqueuedAt: at(-60), runAt: at(-60),
    }),
    urgent: job({ queue: "mail", priority: -3, state: "available", visible: "queued", args: ["urgent"], enqueuedAt: at(-50), runAt: at(-50) }),
    plain: job({ queue: "mail", priority: 0, state: "available", visible: "queued", args: ["plain"], enqueuedAt: at(-40), runAt: at(-40) }),
    // Holds UNIQUE_KEY (while "active") all test long.
    scheduled: job({
      queue: "reports", priority: 0, state: "available", visible: "scheduled", args: ["later"],
      enqueuedAt: at(-30), runAt: at(3600), bodyFlow: { unique: { key: UNIQUE_KEY, while: "active" } },
    }),
    malformed: job({
      queue: "default", priority: 0, state: "available", visible: "queued", rawBody: "{not json",
      enqueuedAt: at(-10), runAt: at(-10),
    }),
    deferred: job({
      queue: "reports", priority: 0, state: "available", visible: "queued", args: ["rated"], flow: { rateLimit: RATE },
      enqueuedAt: at(-6), runAt: at(RATE_FREE_S), bodyRunAt: at(-6), updatedAt: at(-5), deferred: true,
    }),
    holder: job({
      queue: "default", priority: 0, state: "running", visible: "running", args: ["holder"], flow: { concurrency: CONCURRENCY },
      enqueuedAt: at(-4), runAt: at(-4), startedAt: at(-3), updatedAt: at(-3), leaseUntil: at(LEASE_S), executions: 1,
    }),
    parked: job({
      queue: "default", priority: 0, state: "parked", visible: "queued", args: ["parked"], flow: { concurrency: CONCURRENCY },
      enqueuedAt: at(-4), runAt: at(-4),
    }),
  };
  return { jobs, lastTick, rateStart };
}

/**
 * Inserts one job as 009 holds it. The lease token and the parked order come from their
 * sequences, as reserve and flow_admit take them.
 */
const INSERT_JOB = (s: string) => `
INSERT INTO ${s}.jobs (id, job, queue, priority, run_at, state, body, executions, lease_token, lease_until, worker_id,
                       progress, result, error, enqueued_at, started_at, finished_at, updated_at,
                       flow, concurrency_key, parked_seq, deferred)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $9::timestamptz IS NULL THEN NULL ELSE nextval('${s}.lease_tokens') END, $9,
        CASE WHEN $10::timestamptz IS NULL THEN NULL ELSE 'worker-009' END,
        $11, $12, $13, $14, $15, $16, $17,
        $18, $18::jsonb->'concurrency'->>'key', CASE WHEN $6 = 'parked' THEN nextval('${s}.parked_order') END, $19)`;

/** Builds the fixture in a new schema `schema`: migrations 001–009, then the rows. */
export async function build009(url: string, schema: string): Promise<Fixture> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const applied = await migrate(pool, schema, { upTo: "009" });
    if (applied.at(-1) !== "009_late_renewal" || applied.length !== 9) throw new Error(`fixture: expected 001–009 applied, got ${applied.join(", ")}`);
    const s = `"${schema}"`;
    const { rows } = await pool.query<{ now: Date }>("SELECT date_trunc('milliseconds', now()) AS now");
    const base = rows[0]!.now;
    const { jobs, lastTick, rateStart } = fixtureJobs(base);
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      for (const j of Object.values(jobs)) {
        await client.query(INSERT_JOB(s), [
          j.id, JOB, j.queue, j.priority, j.runAt, j.state, j.body, j.executions, j.leaseUntil ?? null,
          // worker_id: set by a reserve, kept after it
          j.startedAt ?? null,
          j.progress ? JSON.stringify(j.progress) : null, j.result ?? null, j.error ? JSON.stringify(j.error) : null,
          j.enqueuedAt, j.startedAt ?? null, j.finishedAt ?? null, j.updatedAt,
          j.flow ? JSON.stringify(j.flow) : null, j.deferred ?? false,
        ]);
      }
      await client.query(`INSERT INTO ${s}.unique_locks (key, job_id, blocks_while, expires_at) VALUES ($1, $2, 'active', NULL)`, [UNIQUE_KEY, jobs.scheduled.id]);
      await client.query(`INSERT INTO ${s}.rate_starts (key, started_at, expires_at) VALUES ($1, $2, $3)`, [
        RATE.key, rateStart, new Date(rateStart.getTime() + RATE.perMs),
      ]);
      await client.query(`INSERT INTO ${s}.recurring (task, last_tick, job_id, updated_at) VALUES ($1, $2, $3, $2)`, [TASK, lastTick, jobs.succeeded.id]);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK");
      throw error;
    } finally {
      client.release();
    }
    return { schema, base, jobs, lastTick, rateStart };
  } finally {
    await pool.end();
  }
}

/** The status record of a fixture job, as the 009 adapter reads it. */
export function expectedStatus(j: FixtureJob): StatusRecord {
  return {
    id: j.id,
    job: JOB,
    queue: j.queue,
    priority: j.priority,
    state: j.visible,
    executions: j.executions,
    enqueuedAt: j.enqueuedAt,
    runAt: j.runAt,
    updatedAt: j.updatedAt,
    ...(j.progress ? { progress: j.progress } : {}),
    ...(j.result !== undefined ? { result: j.result } : {}),
    ...(j.error ? { error: j.error } : {}),
    ...(j.startedAt ? { startedAt: j.startedAt } : {}),
    ...(j.finishedAt ? { finishedAt: j.finishedAt } : {}),
  };
}

/** listQueues of the fixture: its visible states counted per queue. */
export function expectedQueues(jobs: FixtureJobs): QueueInfo[] {
  const byQueue = new Map<string, QueueInfo>();
  for (const j of Object.values(jobs)) {
    if (j.visible === "succeeded" || j.visible === "failed") continue;
    const info = byQueue.get(j.queue) ?? { name: j.queue, queued: 0, scheduled: 0, running: 0, retrying: 0, dead: 0 };
    info[j.visible]++;
    byQueue.set(j.queue, info);
  }
  return [...byQueue.values()].sort((a, b) => a.name.localeCompare(b.name));
}
