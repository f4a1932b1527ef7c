// The operator's contract on PostgreSQL (migration 014), what the portable conformance cases
// cannot see: the count log kept by the jobs table's triggers against a count of the rows
// themselves, after every kind of statement that moves jobs (retries, deaths, lease expiry,
// revivals, purges, retention deletes, run now, cancel) and beside concurrent folds; cursors
// that stay put while jobs move under them; a cancelled parked job's row, batch and
// retention; and the beat's expiry of old throughput rows, workers and abort marks. These
// read and write rows directly, which no portable API can.
import { describe, expect, it } from "vitest";

import type { JobPayload, JobState, ListedJob, QueueInfo, Reservation } from "@errand/core/adapter";
import { PostgresAdapter } from "@errand/adapter-postgres";
import { waitFor } from "@errand/core/testing";

import { freshPostgresAdapters } from "./support/postgres-adapters.js";
import { postgresUrl } from "./support/postgres.js";

const url = postgresUrl();
const freshAdapter = freshPostgresAdapters();
const HOUR = 3_600_000;
const FAILURE = { name: "Error", message: "it broke" };

let counter = 0;
function payload(queue: string, runAt: number, overrides: Partial<JobPayload> = {}): JobPayload {
  counter += 1;
  const id = `0190a000-0000-7000-8000-${String(counter).padStart(12, "0")}`;
  return { v: 1, job: "CountedJob", id, queue, priority: 0, args: { json: [counter] }, executions: 0, enqueuedAt: new Date().toISOString(), runAt: new Date(runAt).toISOString(), ...overrides };
}

const reserve = (adapter: PostgresAdapter, queue: string, max: number, leaseMs = 60_000) =>
  adapter.reserve({ queues: [queue], max, leaseMs, waitMs: 0, workerId: "control-test" });

/** Counts per queue read from the rows themselves, as listQueues read them before 014 (finished ones too). */
async function countedRows(adapter: PostgresAdapter): Promise<Partial<QueueInfo>[]> {
  const { rows } = await adapter.pool.query(`SELECT queue AS name,
      count(*) FILTER (WHERE state = 'parked' OR (state = 'available' AND (deferred OR (run_at <= now() AND error IS NULL))))::int AS queued,
      count(*) FILTER (WHERE state = 'available' AND NOT deferred AND run_at > now() AND error IS NULL)::int AS scheduled,
      count(*) FILTER (WHERE state = 'running')::int AS running,
      count(*) FILTER (WHERE state = 'available' AND NOT deferred AND error IS NOT NULL)::int AS retrying,
      count(*) FILTER (WHERE state = 'dead')::int AS dead,
      count(*) FILTER (WHERE state = 'succeeded')::int AS succeeded, count(*) FILTER (WHERE state = 'failed')::int AS failed
    FROM "${adapter.schema}".jobs GROUP BY queue ORDER BY queue`);
  return rows;
}

/** listQueues' counts against the rows', queue by queue. */
async function expectCountsRight(adapter: PostgresAdapter): Promise<void> {
  const listed = (await adapter.listQueues({})).map(({ name, queued, scheduled, running, retrying, dead, succeeded, failed }) => ({ name, queued, scheduled, running, retrying, dead, succeeded, failed }));
  expect(listed).toEqual(await countedRows(adapter));
}

/** Every job of a listing, page by page, `limit` a page, with `between` run before each next page. */
async function walk(adapter: PostgresAdapter, state: JobState, queue: string, limit: number, between: (page: number) => Promise<void>): Promise<ListedJob[]> {
  const listed: ListedJob[] = [];
  let cursor: string | undefined;
  let page = 0;
  do {
    const result = await adapter.listJobs({ state, queue, limit, ...(cursor === undefined ? {} : { cursor }) });
    listed.push(...result.jobs);
    cursor = result.next;
    await between(page++);
  } while (cursor !== undefined && page < 100);
  return listed;
}

describe("postgres: the operator's contract", () => {
  it("the count log agrees with the rows after retries, deaths, releases, expiry, revival, purge, run now, cancel and retention, beside concurrent folds", async () => {
    const adapter = freshAdapter({ leaseCheckMs: 0, retentionCheckMs: 0, maxFinished: 1_000_000 });
    const other = new PostgresAdapter({ url, schema: adapter.schema, poolSize: 2 });
    try {
      const now = Date.now();
      await adapter.enqueue({ jobs: Array.from({ length: 12 }, (_, i) => payload(i % 2 ? "count-a" : "count-b", now - 1000 * (i + 1))) });
      await adapter.enqueue({ jobs: [payload("count-a", now + HOUR), payload("count-b", now + 2 * HOUR)] });
      await expectCountsRight(adapter);
      const taken = [...(await reserve(adapter, "count-a", 6)), ...(await reserve(adapter, "count-b", 6))];
      expect(taken).toHaveLength(12);
      await expectCountsRight(adapter);
      const body = (r: Reservation) => JSON.parse(r.body) as JobPayload;
      const [s1, s2, f1, d1, d2, r1, r2, rel, ...rest] = taken;
      await adapter.settle({
        settlements: [
          { reservation: s1!, outcome: "succeeded" },
          { reservation: s2!, outcome: "succeeded", result: "1" },
          { reservation: f1!, outcome: "failed", error: FAILURE },
          { reservation: d1!, outcome: "dead", error: FAILURE, payload: body(d1!) },
          { reservation: d2!, outcome: "dead", error: FAILURE, payload: body(d2!) },
          // A retry into another queue moves the job's count with it.
          { reservation: r1!, outcome: "retry", error: FAILURE, runAt: new Date(now + HOUR), payload: { ...body(r1!), queue: "count-c", executions: 1 } },
          { reservation: r2!, outcome: "retry", error: FAILURE, runAt: new Date(now - 1), payload: { ...body(r2!), executions: 1 } },
          { reservation: rel!, outcome: "released" },
        ],
      });
      // Two folds at once, beside the reads: neither loses nor doubles a count.
      await Promise.all([adapter.pool.query(`SELECT "${adapter.schema}".fold_counts()`), other.pool.query(`SELECT "${adapter.schema}".fold_counts()`), expectCountsRight(adapter)]);
      await expectCountsRight(adapter);
      // Run now (a retrying job becomes queued), cancel (a scheduled one fails).
      expect(await adapter.changeJobs({ action: "runNow", ids: [body(r1!).id] })).toEqual([body(r1!).id]);
      const scheduled = (await adapter.listJobs({ state: "scheduled", limit: 10 })).jobs.map((job) => job.id);
      expect(await adapter.changeJobs({ action: "cancel", ids: scheduled })).toEqual(scheduled);
      await expectCountsRight(adapter);
      // Dead jobs revived and purged.
      expect(await adapter.retryDead({ select: { ids: [body(d1!).id] }, revive: (text) => ({ payload: JSON.parse(text) as JobPayload, body: text }) })).toBe(1);
      expect(await adapter.purgeDead({ select: { ids: [body(d2!).id] } })).toBe(1);
      await expectCountsRight(adapter);
      // Leases run out: jobs reserved with a 1 ms lease go back to ready at the next reserve's lease check.
      await adapter.enqueue({ jobs: [payload("count-a", now - 5000), payload("count-a", now - 4000)] });
      const brief = await reserve(adapter, "count-a", 2, 1);
      expect(brief).toHaveLength(2);
      await expectCountsRight(adapter);
      await waitFor(
        async () => {
          await reserve(adapter, "nothing-here", 1);
          const { rows: back } = await adapter.pool.query(`SELECT count(*)::int AS n FROM "${adapter.schema}".jobs WHERE id = ANY($1::uuid[]) AND state = 'available'`, [brief.map((r) => r.providerJobId)]);
          return back[0].n === 2;
        },
        { timeoutMs: 5000, message: "the 1 ms leases to be put back" },
      );
      await expectCountsRight(adapter);
      expect(rest).toHaveLength(4);
      // Retention deletes every finished job (maxFinished 0): the counts follow.
      const retained = new PostgresAdapter({ url, schema: adapter.schema, poolSize: 2, maxFinished: 0, retentionCheckMs: 0 });
      try {
        await reserve(retained, "nothing-here", 1);
      } finally {
        await retained.close();
      }
      const left = await countedRows(adapter);
      expect(left.every((info) => info.succeeded === 0 && info.failed === 0)).toBe(true);
      await expectCountsRight(adapter);
      const { rows } = await adapter.pool.query(`SELECT count(*)::int AS n FROM "${adapter.schema}".failed_jobs`);
      expect(rows[0].n).toBe(0);
    } finally {
      await other.close();
      await adapter.close();
    }
  });

  it("a queued listing paged while jobs are taken, cancelled and added lists each job that stayed once, none skipped", async () => {
    const adapter = freshAdapter();
    try {
      const now = Date.now();
      const stored = Array.from({ length: 24 }, (_, i) => payload("cursor-q", now - 100_000 + i, { priority: i % 3 }));
      await adapter.enqueue({ jobs: stored });
      const left = new Set<string>();
      const listed = await walk(adapter, "queued", "cursor-q", 4, async (page) => {
        // Between pages: a worker takes the two first in reserve order, an operator cancels one
        // more, and new jobs come (behind or ahead of the cursor).
        for (const r of await reserve(adapter, "cursor-q", 2)) left.add(r.providerJobId);
        const [victim] = stored.filter((job) => !left.has(job.id)).slice(-1 - page);
        if (victim && (await adapter.changeJobs({ action: "cancel", ids: [victim.id] })).length === 1) left.add(victim.id);
        await adapter.enqueue({ jobs: [payload("cursor-q", now - 200_000 + page), payload("cursor-q", now + page, { priority: 9 })] });
      });
      const ids = listed.map((job) => job.id);
      expect(new Set(ids).size).toBe(ids.length);
      const stayed = stored.filter((job) => !left.has(job.id)).map((job) => job.id);
      for (const id of stayed) expect(ids).toContain(id);
      // In the listing's order: priority, then run time.
      const order = listed.map((job) => [job.priority, job.runAt.getTime()] as const);
      expect(order).toEqual([...order].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
    } finally {
      await adapter.close();
    }
  });

  it("a succeeded listing paged while more jobs finish lists each job once, newest reserve call first", async () => {
    const adapter = freshAdapter();
    try {
      const now = Date.now();
      await adapter.enqueue({ jobs: Array.from({ length: 30 }, (_, i) => payload("cursor-s", now - 1000 + i)) });
      const settleSome = async (max: number) => {
        const taken = await reserve(adapter, "cursor-s", max);
        await adapter.settle({ settlements: taken.map((reservation) => ({ reservation, outcome: "succeeded" as const })) });
        return taken.map((r) => r.providerJobId);
      };
      const before = [...(await settleSome(5)), ...(await settleSome(5)), ...(await settleSome(5))];
      const listed = await walk(adapter, "succeeded", "cursor-s", 4, async () => void (await settleSome(2)));
      const ids = listed.map((job) => job.id);
      expect(new Set(ids).size).toBe(ids.length);
      // Every job that had finished before the walk began, newest call first; within a call
      // newest finished first, then by id, descending (one settle: one finish time).
      const call = (from: number) => before.slice(from, from + 5).reverse();
      expect(ids.filter((id) => before.includes(id))).toEqual([...call(10), ...call(5), ...call(0)]);
      for (const id of before) expect(ids).toContain(id);
    } finally {
      await adapter.close();
    }
  });

  it("a cancelled parked job leaves its key's queue of parked jobs, sits in a closed batch of its own, and goes at retention", async () => {
    const adapter = freshAdapter({ maxFinished: 1_000_000 });
    try {
      const now = Date.now();
      const concurrency = { key: "pg-parked", limit: 1 };
      const jobs = [0, 1, 2].map((i) => payload("parked-q", now - 3000 + i, { flow: { concurrency } }));
      await adapter.enqueue({ jobs });
      const [holder] = await reserve(adapter, "parked-q", 3);
      expect(holder!.providerJobId).toBe(jobs[0]!.id);
      const { rows: parked } = await adapter.pool.query(`SELECT id FROM "${adapter.schema}".jobs WHERE parked_seq IS NOT NULL ORDER BY parked_seq`);
      expect(parked.map((row) => row.id)).toEqual([jobs[1]!.id, jobs[2]!.id]);
      expect(await adapter.changeJobs({ action: "cancel", ids: [jobs[1]!.id] })).toEqual([jobs[1]!.id]);
      const { rows } = await adapter.pool.query(
        `SELECT j.state, j.parked_seq, b.open, b.ids FROM "${adapter.schema}".jobs AS j JOIN "${adapter.schema}".batches AS b ON b.token = j.lease_token WHERE j.id = $1`,
        [jobs[1]!.id],
      );
      expect(rows).toEqual([{ state: "failed", parked_seq: null, open: false, ids: [jobs[1]!.id] }]);
      expect((await adapter.listJobs({ state: "failed", limit: 10 })).jobs.map((job) => job.id)).toEqual([jobs[1]!.id]);
      expect((await adapter.listJobs({ state: "queued", queue: "parked-q", limit: 10 })).jobs.map((job) => job.id)).toEqual([jobs[2]!.id]);
      await expectCountsRight(adapter);
      await adapter.settle({ settlements: [{ reservation: holder!, outcome: "succeeded" }] });
      expect((await reserve(adapter, "parked-q", 3)).map((r) => r.providerJobId)).toEqual([jobs[2]!.id]);
      const retained = new PostgresAdapter({ url, schema: adapter.schema, poolSize: 2, maxFinished: 0, retentionCheckMs: 0 });
      try {
        await reserve(retained, "nothing-here", 1);
      } finally {
        await retained.close();
      }
      expect(await adapter.getStatus({ ids: [jobs[1]!.id] })).toEqual([null]);
      expect((await adapter.listJobs({ state: "failed", limit: 10 })).jobs).toEqual([]);
      await expectCountsRight(adapter);
    } finally {
      await adapter.close();
    }
  });

  it("a mark keeps its kind (migration 021): a row written without one is an abort, an abort of the run replaces an interrupt, an interrupt leaves an abort", async () => {
    const adapter = freshAdapter();
    try {
      await adapter.enqueue({ jobs: [payload("kinds", Date.now() - 2000), payload("kinds", Date.now() - 1000)] });
      const taken = await reserve(adapter, "kinds", 2);
      const [a, b] = taken.map((reservation) => reservation.providerJobId);
      const table = `"${adapter.schema}".abort_marks`;
      // As a mark made before 021 was stored: job and token only.
      await adapter.pool.query(`INSERT INTO ${table} (job_id, token) SELECT id, lease_token FROM "${adapter.schema}".jobs WHERE id = $1`, [a]);
      expect(await adapter.changeJobs({ action: "interrupt", ids: [a!, b!] })).toEqual([a, b]);
      const kinds = async () => (await adapter.pool.query<{ id: string; kind: string }>(`SELECT job_id::text AS id, kind FROM ${table} ORDER BY job_id`)).rows;
      expect(await kinds()).toEqual([{ id: a, kind: "abort" }, { id: b, kind: "interrupt" }].sort((x, y) => (x.id! < y.id! ? -1 : 1)));
      expect(await adapter.changeJobs({ action: "abort", ids: [b!] })).toEqual([b]);
      expect((await kinds()).map((row) => row.kind)).toEqual(["abort", "abort"]);
      await expect(adapter.pool.query(`UPDATE ${table} SET kind = 'pause'`)).rejects.toThrow(/check constraint/);
    } finally {
      await adapter.close();
    }
  });

  it("a beat drops throughput older than 25 hours, workers an hour past their ttl and abort marks older than an hour", async () => {
    const adapter = freshAdapter();
    try {
      const worker = (id: string) => ({ id, host: "h", pid: 1, adapter: "postgres", queues: "*", concurrency: 1, startedAt: new Date(), running: [] });
      const old = new Date(Date.now() - 26 * HOUR);
      await adapter.heartbeat({ worker: worker("old"), at: old, ttlMs: 5000, finished: [{ queue: "tp-old", succeeded: 4, failed: 1 }] });
      const table = (name: string) => `"${adapter.schema}".${name}`;
      await adapter.pool.query(`INSERT INTO ${table("abort_marks")} (job_id, token, marked_at) VALUES (gen_random_uuid(), 1, now() - interval '2 hours')`);
      const count = async (name: string) => Number((await adapter.pool.query(`SELECT count(*) AS n FROM ${table(name)}`)).rows[0].n);
      expect([await count("throughput"), await count("abort_marks")]).toEqual([1, 1]);
      await adapter.heartbeat({ worker: worker("new"), at: new Date(), ttlMs: 5000, finished: [{ queue: "tp-new", succeeded: 1, failed: 0 }] });
      expect([await count("throughput"), await count("abort_marks")]).toEqual([1, 0]);
      expect((await adapter.listWorkers()).map((record) => record.id)).toEqual(["new"]);
      const listed = await adapter.listQueues({ throughputMinutes: 180 });
      // Only queues that hold jobs or are paused are listed; the new minute's counts are kept.
      expect(listed).toEqual([]);
      const { rows } = await adapter.pool.query(`SELECT queue, succeeded::int FROM ${table("throughput")}`);
      expect(rows).toEqual([{ queue: "tp-new", succeeded: 1 }]);
    } finally {
      await adapter.close();
    }
  });
});
