// Upgrading a PostgreSQL schema from migration 009 (issue 14: "migrations that moved
// existing data safely"). The previous schema is frozen in support/postgres-009-fixture.ts:
// jobs in every state, a unique lock, a rate window and a recurring tick, written with 009's
// table shapes. Migrating it to the latest must keep every status, count and dead job, and
// the jobs must then run as they would have: each runnable one exactly once with its
// arguments, live leases and limits honoured, the malformed body dead with its parse error.
// While 009 was the latest migration, two more cases proved the fixture faithful (009's
// adapter read every row as the fixture says, and its own statements wrote rows of the same
// shapes); they went with migration 010, whose adapter no longer reads 009's tables (commit
// 237cccf has them).
import { readdirSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";

import { afterAll, afterEach, describe, expect, it } from "vitest";
import pg from "pg";

import { configure, deadSet, Job, Worker } from "@errand/core";
import { migrate, PostgresAdapter } from "@errand/adapter-postgres";
import type { JobPayload, QueueInfo } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";
import {
  build009,
  CONCURRENCY,
  expectedQueues,
  expectedStatus,
  JOB,
  LEASE_S,
  RATE,
  TASK,
  UNIQUE_KEY,
  type Fixture,
  type FixtureJob,
} from "./support/postgres-009-fixture.js";

const url = postgresUrl();
const schemas: string[] = [];
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});
afterAll(() => dropSchemas(url, schemas));

const MIGRATIONS = readdirSync(fileURLToPath(new URL("../packages/adapter-postgres/sql/migrations/", import.meta.url)))
  .filter((file) => /^\d{3}_[\w-]+\.sql$/.test(file))
  .sort()
  .map((file) => file.slice(0, -4));
const AFTER_009 = MIGRATIONS.filter((name) => Number(name.slice(0, 3)) > 9);
const QUEUES = ["default", "mail", "reports", "video"];

const performed: { jobId: string; args: unknown[]; executions: number }[] = [];

/** The one job class the fixture's bodies name: records what it was given. */
class UpgradeJob extends Job<unknown[]> {
  static override jobName = JOB;
  perform(...args: unknown[]) {
    performed.push({ jobId: this.jobId, args, executions: this.executions });
  }
}

async function fixture(): Promise<Fixture> {
  const schema = schemaName("errand_up");
  schemas.push(schema);
  return build009(url, schema);
}

function adapterOn(schema: string, options: Partial<ConstructorParameters<typeof PostgresAdapter>[0]> = {}): PostgresAdapter {
  const adapter = new PostgresAdapter({ url, schema, poolSize: 4, leaseCheckMs: 50, ...options });
  open.push(adapter);
  return adapter;
}

const all = (fx: Fixture) => Object.values(fx.jobs);

/**
 * listQueues' counts of unfinished jobs, as 009's adapter listed them: since migration 014 a
 * queue also shows its finished jobs, latency and pause (test/postgres-control-upgrade.pg.test.ts
 * checks those), and a queue holding finished jobs only is listed too.
 */
async function waitingCounts(adapter: PostgresAdapter): Promise<QueueInfo[]> {
  return (await adapter.listQueues())
    .map(({ name, queued, scheduled, running, retrying, dead }) => ({ name, queued, scheduled, running, retrying, dead }))
    .filter((info) => info.queued + info.scheduled + info.running + info.retrying + info.dead > 0);
}

/** Everything the adapter reports about the fixture reads exactly as the fixture says. */
async function expectReadsAsFixture(adapter: PostgresAdapter, fx: Fixture): Promise<void> {
  const { jobs } = fx;
  expect(await adapter.getStatus({ ids: all(fx).map((j) => j.id) })).toEqual(all(fx).map(expectedStatus));
  expect(await waitingCounts(adapter)).toEqual(expectedQueues(jobs));
  expect(await adapter.listDead({})).toEqual([
    { id: jobs.dead.id, providerJobId: jobs.dead.id, queue: "mail", body: jobs.dead.body, error: jobs.dead.error, diedAt: jobs.dead.finishedAt },
  ]);
  expect(await adapter.recurringState({ tasks: [TASK] })).toEqual([{ task: TASK, lastTick: fx.lastTick, jobId: jobs.succeeded.id }]);
}

/** A wire-format payload for direct enqueues. */
function payload(queue: string, flow?: JobPayload["flow"]): JobPayload {
  const now = new Date().toISOString();
  return { v: 1, job: JOB, id: randomUUID(), queue, priority: 0, args: { json: ["probe"] }, executions: 0, enqueuedAt: now, runAt: now, ...(flow ? { flow } : {}) };
}

/** The body as the reservation carries it: the same payload (the text itself for a malformed one). */
function decoded(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

describe("postgres upgrade from the 009 schema", () => {
  it("migrate(pool, schema, { upTo }) refuses an upTo naming no migration, and unknown options", async () => {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      await expect(migrate(pool, "errand_up_none", { upTo: "9" })).rejects.toThrow(/upTo "9" names no migration \(known: 001, 002,/);
      await expect(migrate(pool, "errand_up_none", { upTo: "999" })).rejects.toThrow(/upTo "999" names no migration/);
      await expect(migrate(pool, "errand_up_none", { to: "009" } as never)).rejects.toThrow(/unknown option "to" \(known: upTo\)/);
    } finally {
      await pool.end();
    }
  });

  it("migrating keeps every job, lock, window and tick; then each runnable job runs once, as before", { timeout: 60_000 }, async () => {
    performed.length = 0;
    const started = Date.now();
    const fx = await fixture();
    const { jobs } = fx;
    const adapter = adapterOn(fx.schema);
    expect((await adapter.migrate()).applied).toEqual(AFTER_009);

    // Read back before anything runs (a reserve would expire the lapsed lease first).
    await expectReadsAsFixture(adapter, fx);

    // One reserve of every ready job: the lapsed lease is handed out again, the live ones,
    // the parked job (its key is full), the deferred and the scheduled ones are not; the
    // order is priority, then run_at; the bodies are the stored payloads.
    if (Date.now() - started > (LEASE_S - 2) * 1000) throw new Error("the fixture and the migration took too long to test live leases");
    const ready = await adapter.reserve({ queues: "*", max: 50, leaseMs: 30_000, waitMs: 0, workerId: "upgrade-check" });
    const order = [jobs.urgent, jobs.expired, jobs.plain, jobs.malformed, jobs.retrying, jobs.prioritized];
    expect(ready.map((r) => r.providerJobId)).toEqual(order.map((j) => j.id));
    expect(ready.map((r) => decoded(r.body))).toEqual(order.map((j) => decoded(j.body)));
    expect(ready.find((r) => r.providerJobId === jobs.malformed.id)!.body).toBe("{not json");
    await adapter.settle({ settlements: ready.map((reservation) => ({ reservation, outcome: "released" as const })) });

    // The unique key still has its holder; the recurring task its tick, and a later tick stores.
    expect(await adapter.enqueue({ jobs: [payload("reports", { unique: { key: UNIQUE_KEY, while: "active" } })] })).toEqual([
      { jobId: jobs.scheduled.id, providerJobId: jobs.scheduled.id, duplicate: true },
    ]);
    const tick = { task: TASK, tick: fx.lastTick.toISOString() };
    expect(await adapter.enqueue({ jobs: [payload("probe-tick", { recurring: tick })] })).toEqual([
      { jobId: jobs.succeeded.id, providerJobId: jobs.succeeded.id, duplicate: true },
    ]);
    const next = payload("probe-tick", { recurring: { task: TASK, tick: new Date(fx.lastTick.getTime() + 86_400_000).toISOString() } });
    expect(await adapter.enqueue({ jobs: [next] })).toEqual([{ jobId: next.id, providerJobId: next.id }]);
    // The rate window's start moved with it: a new job of key `api` is deferred to when it leaves.
    const rated = payload("probe", { rateLimit: RATE });
    await adapter.enqueue({ jobs: [rated] });
    expect(await adapter.reserve({ queues: ["probe"], max: 10, leaseMs: 30_000, waitMs: 0, workerId: "upgrade-check" })).toEqual([]);
    const [ratedStatus] = await adapter.getStatus({ ids: [rated.id] });
    expect(ratedStatus).toMatchObject({ state: "queued", runAt: new Date(fx.rateStart.getTime() + RATE.perMs) });

    // The dead job revives, and a worker drains the fixture's queues; every body it is
    // handed is kept, to compare with what was stored.
    const delivered = new Map<string, string>();
    const reserve = adapter.reserve.bind(adapter);
    adapter.reserve = async (options) => {
      const got = await reserve(options);
      for (const r of got) if (!delivered.has(r.providerJobId)) delivered.set(r.providerJobId, r.body);
      return got;
    };
    const runtime = configure({ adapter, jobs: [UpgradeJob], worker: { embedded: false, pollInterval: 50 } });
    open.push(runtime);
    expect(await deadSet().retry([jobs.dead.id])).toBe(1);
    const worker = new Worker({ runtime, concurrency: 2, queues: QUEUES });
    open.push({ close: () => worker.stop({ graceMs: 1000 }) });
    await worker.start();
    const runnable: FixtureJob[] = [
      jobs.prioritized, jobs.urgent, jobs.plain, jobs.retrying, jobs.live, jobs.expired, jobs.dead, jobs.holder, jobs.parked, jobs.deferred,
    ];
    const byId = async (list: FixtureJob[]) => adapter.getStatus({ ids: list.map((j) => j.id) });
    const [malformed] = await waitFor(
      async () => {
        const statuses = await byId([jobs.malformed, ...runnable]);
        return statuses.every((status, i) => status?.state === (i === 0 ? "dead" : "succeeded")) && statuses;
      },
      { timeoutMs: 40_000, intervalMs: 50, message: "every runnable fixture job finished" },
    );
    await worker.stop({ graceMs: 1000 });

    // Exactly once each, with the arguments stored (a Date and a Map through superjson's meta).
    expect(performed.map((p) => p.jobId).sort()).toEqual(runnable.map((j) => j.id).sort());
    for (const j of runnable) expect(performed.find((p) => p.jobId === j.id)!.args).toEqual(j.args);
    // Each body as stored (the one revived from the dead set as core revives it: fresh attempts, due now).
    for (const j of [...runnable, jobs.malformed].filter((j) => j !== jobs.dead)) expect(decoded(delivered.get(j.id)!), j.id).toEqual(decoded(j.body));
    const { exceptionExecutions: _counts, ...wasDead } = JSON.parse(jobs.dead.body) as JobPayload;
    expect(decoded(delivered.get(jobs.dead.id)!)).toEqual({ ...wasDead, executions: 0, runAt: expect.any(String) });
    // Live leases were waited out; the deferred job waited for its window.
    const [live, holder, parked, deferred] = await byId([jobs.live, jobs.holder, jobs.parked, jobs.deferred]);
    expect(live!.startedAt!.getTime()).toBeGreaterThanOrEqual(jobs.live.leaseUntil!.getTime());
    expect(holder!.startedAt!.getTime()).toBeGreaterThanOrEqual(jobs.holder.leaseUntil!.getTime());
    // Both were handed out only once the holder's lease ended, and one after the other: the
    // holder's expiry un-parks the parked job, and either may then take the key's one slot.
    expect(parked!.startedAt!.getTime()).toBeGreaterThanOrEqual(jobs.holder.leaseUntil!.getTime());
    const [first, second] = [holder!, parked!].sort((a, b) => a.startedAt!.getTime() - b.startedAt!.getTime());
    expect(second!.startedAt!.getTime()).toBeGreaterThanOrEqual(first!.finishedAt!.getTime());
    expect(deferred!.startedAt!.getTime()).toBeGreaterThanOrEqual(jobs.deferred.runAt.getTime());
    // The malformed body died on its parse error, kept as it was; the finished and scheduled jobs are untouched.
    expect(malformed!.error?.message).toMatch(/malformed payload: not JSON/);
    const dead = await adapter.listDead({});
    expect(dead.map((d) => [d.id, d.body])).toEqual([[jobs.malformed.id, "{not json"]]);
    expect(await byId([jobs.scheduled, jobs.succeeded, jobs.failed])).toEqual([jobs.scheduled, jobs.succeeded, jobs.failed].map(expectedStatus));
    expect(await waitingCounts(adapter)).toEqual([
      { name: "default", queued: 0, scheduled: 0, running: 0, retrying: 0, dead: 1 },
      { name: "probe", queued: 1, scheduled: 0, running: 0, retrying: 0, dead: 0 },
      { name: "probe-tick", queued: 1, scheduled: 0, running: 0, retrying: 0, dead: 0 },
      { name: "reports", queued: 0, scheduled: 1, running: 0, retrying: 0, dead: 0 },
    ]);

    // Migration 012 moved the scheduled job out of the ready indexes (token −2); once its
    // time comes (moved here, as time would), a reserve promotes it and hands it out.
    const token = `SELECT lease_token FROM "${fx.schema}".jobs WHERE id = $1`;
    expect((await adapter.pool.query(token, [jobs.scheduled.id])).rows).toEqual([{ lease_token: "-2" }]);
    await adapter.pool.query(`UPDATE "${fx.schema}".jobs SET run_at = now() - interval '1 second' WHERE id = $1`, [jobs.scheduled.id]);
    const due = await adapter.reserve({ queues: ["reports"], max: 10, leaseMs: 30_000, waitMs: 0, workerId: "upgrade-check" });
    expect(due.map((r) => [r.providerJobId, decoded(r.body)])).toEqual([[jobs.scheduled.id, decoded(jobs.scheduled.body)]]);
  });
});
