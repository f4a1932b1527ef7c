// PostgreSQL internals that only raw rows and server-side actions can show: retention
// deletes finished rows, the LISTEN connection comes back after the server drops it, and
// payloads are stored readable. Portable behaviour lives in the conformance suite.
import { afterAll, describe, expect, it } from "vitest";
import pg from "pg";

import { configure, Job, Worker } from "@errand/core";
import { PostgresAdapter } from "@errand/adapter-postgres";
import { waitFor } from "@errand/core/testing";

import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";

const url = postgresUrl();
const schemas: string[] = [];
afterAll(() => dropSchemas(url, schemas));

function freshAdapter(options: Partial<ConstructorParameters<typeof PostgresAdapter>[0]> = {}) {
  const schema = schemaName();
  schemas.push(schema);
  return new PostgresAdapter({ url, schema, poolSize: 4, ...options });
}

class EchoJob extends Job<[n: number]> {
  perform(n: number) {
    return n;
  }
}

describe("postgres internals", () => {
  it("stores the payload as readable wire-format text in the body column", async () => {
    const adapter = freshAdapter();
    const runtime = configure({ adapter, worker: { embedded: false } });
    try {
      const { jobId } = await EchoJob.set({ queue: "raw", priority: 4 }).performLater(7);
      const { rows } = await adapter.pool.query(`SELECT job, queue, priority, state, body FROM "${adapter.schema}".jobs WHERE id = $1`, [jobId]);
      expect(rows[0]).toMatchObject({ job: "EchoJob", queue: "raw", priority: 4, state: "available" });
      expect(JSON.parse(rows[0].body)).toMatchObject({ v: 1, job: "EchoJob", id: jobId, args: { json: [7] } });
    } finally {
      await runtime.close();
    }
  });

  it("retention deletes finished jobs past their age and those of batches beyond the count, and keeps dead ones", async () => {
    // Retention runs at the first reserve, then not again for an hour: none while draining.
    const adapter = freshAdapter({ retentionMs: 60_000, maxFinished: 3, retentionCheckMs: 3_600_000 });
    const runtime = configure({ adapter, worker: { embedded: false } });
    const checker = new PostgresAdapter({ url, schema: adapter.schema, retentionMs: 60_000, maxFinished: 3, retentionCheckMs: 0 });
    try {
      await Promise.all(Array.from({ length: 6 }, (_, i) => EchoJob.performLater(i)));
      // Six reserve calls of one job each: six batches, oldest first (migration 010).
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const [reservation] = await adapter.reserve({ queues: ["default"], max: 1, leaseMs: 60_000, waitMs: 0, workerId: "retention" });
        ids.push(reservation!.providerJobId);
        await adapter.settle({ settlements: [{ reservation: reservation!, outcome: "succeeded", result: "1" }] });
      }
      const table = `"${adapter.schema}".jobs`;
      // Age the newest finished job past retention (and its batch: a job finishes after its
      // reserve, and retention only looks at batches reserved before the cutoff), and make
      // the oldest dead: it must survive.
      await adapter.pool.query(`UPDATE ${table} SET finished_at = now() - interval '2 minutes' WHERE id = $1`, [ids[5]]);
      await adapter.pool.query(
        `UPDATE "${adapter.schema}".batches SET reserved_at = now() - interval '3 minutes' WHERE token = (SELECT lease_token FROM ${table} WHERE id = $1)`,
        [ids[5]],
      );
      await adapter.pool.query(`UPDATE ${table} SET state = 'dead', finished_at = now() - interval '1 day', dead_at = now() - interval '1 day' WHERE id = $1`, [ids[0]]);
      expect((await adapter.pool.query(`SELECT 1 FROM ${table} WHERE state = 'succeeded'`)).rowCount).toBe(5);
      await checker.reserve({ queues: ["default"], max: 1, leaseMs: 1000, waitMs: 0, workerId: "retention-check" });
      // maxFinished 3 keeps the newest three batches (ids 3–5), of which 5 is past its age;
      // batches 1 and 2 are beyond the count; the dead job stays.
      const { rows } = await adapter.pool.query<{ id: string; state: string }>(`SELECT id, state FROM ${table} ORDER BY state, id`);
      expect(rows).toEqual(
        [{ id: ids[0], state: "dead" }, ...[ids[3], ids[4]].sort().map((id) => ({ id, state: "succeeded" }))],
      );
      expect(await checker.listDead({})).toMatchObject([{ id: ids[0] }]);
    } finally {
      await checker.close();
      await runtime.close();
    }
  });

  it("retention clears a backlog larger than one step at the following reserves, without waiting retentionCheckMs", async () => {
    const adapter = freshAdapter({ retentionMs: 60_000, retentionCheckMs: 3_600_000 });
    const reserve = () => adapter.reserve({ queues: ["default"], max: 1, leaseMs: 1000, waitMs: 0, workerId: "retention" });
    const table = `"${adapter.schema}".jobs`;
    // n finished jobs past their age, in closed batches of 1,000 (as reserves leave them).
    const backlog = async (n: number, firstToken: number) => {
      await adapter.pool.query(
        `INSERT INTO ${table} (id, job, queue, priority, run_at, state, body, executions, enqueued_at, lease_token, finished_at, result)
         SELECT gen_random_uuid(), 'EchoJob', 'default', 0, now() - interval '1 day', 'succeeded', '{}', 1, now() - interval '1 day',
                $2::bigint + i / 1000, now() - interval '1 day', '1'
         FROM generate_series(0, $1::int - 1) AS i`,
        [n, firstToken],
      );
      await adapter.pool.query(
        `INSERT INTO "${adapter.schema}".batches (token, worker_id, reserved_at, lease_until, jobs, ids, open)
         SELECT lease_token, 'w', now() - interval '1 day', now() - interval '1 day', count(*), array_agg(id), false
         FROM ${table} WHERE lease_token >= $1 GROUP BY lease_token`,
        [firstToken],
      );
    };
    const finished = async () => Number((await adapter.pool.query(`SELECT count(*) AS n FROM ${table} WHERE state = 'succeeded'`)).rows[0].n);
    try {
      await adapter.migrate();
      await backlog(5000, 1_000_000);
      // Steps of 2,000 (adapter.ts): a full step is followed by another at a reserve soon
      // after (four times the step's duration), not an hour later; the third comes back short.
      const left: number[] = [];
      await waitFor(async () => {
        await reserve();
        const n = await finished();
        if (left.at(-1) !== n) left.push(n);
        return n === 0;
      }, { timeoutMs: 20_000, intervalMs: 10, message: "the backlog cleared by reserves" });
      expect(left).toEqual([3000, 1000, 0]);
      // Then retention waits for retentionCheckMs again (an hour): a new backlog stays.
      await backlog(10, 2_000_000);
      await reserve();
      expect(await finished()).toBe(10);
    } finally {
      await adapter.close();
    }
  });

  it("an idle worker wakes by NOTIFY, also after the server drops the listening connection", async () => {
    const adapter = freshAdapter();
    const runtime = configure({ adapter, worker: { embedded: false } });
    const started: number[] = [];
    runtime.events.on("job:start", () => started.push(Date.now()));
    // A poll interval far longer than the test: only NOTIFY can start the jobs in time.
    const worker = new Worker({ runtime, concurrency: 2, pollInterval: "60s" });
    const admin = new pg.Client({ connectionString: url, application_name: "errand-test-admin" });
    await admin.connect();
    try {
      await adapter.migrate();
      await worker.start();
      const listening = () =>
        admin.query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'errand-listener' AND query ILIKE 'LISTEN%'`);
      const first = await waitFor(async () => (await listening()).rows[0]?.pid as number | undefined, { message: "the listener connected" });
      await EchoJob.performLater(1);
      // Well inside the 60 s poll interval: only NOTIFY can have started it.
      await waitFor(() => started.length === 1, { timeoutMs: 20_000, message: "the first job started by NOTIFY" });

      await admin.query("SELECT pg_terminate_backend($1)", [first]);
      await waitFor(async () => {
        const pid = (await listening()).rows[0]?.pid as number | undefined;
        return pid !== undefined && pid !== first;
      }, { timeoutMs: 10_000, message: "the listener to reconnect" });
      await EchoJob.performLater(2);
      await waitFor(() => started.length === 2, { timeoutMs: 10_000, message: "the second job started after the reconnect" });
    } finally {
      await admin.end();
      await worker.stop();
      await runtime.close();
    }
  });

  it("a job enqueued while an empty reserve is in flight wakes that reserve, not its poll fallback", async () => {
    // The fallback poll is 60 s: a reserve that missed the NOTIFY sent while its query ran
    // would wait that long. 200 rounds make the race likely (it hit 1 % of the latency bench).
    const adapter = freshAdapter({ leaseCheckMs: 60_000, retentionCheckMs: 3_600_000 });
    const runtime = configure({ adapter, worker: { embedded: false } });
    const reserve = (waitMs: number) => adapter.reserve({ queues: ["race"], max: 1, leaseMs: 60_000, waitMs, workerId: "race" });
    try {
      await reserve(0); // migrations and the first upkeep out of the way
      for (let round = 0; round < 200; round++) {
        const reserving = reserve(30_000);
        await EchoJob.set({ queue: "race" }).performLater(round);
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<"missed">((resolve) => (timer = setTimeout(() => resolve("missed"), 5_000)));
        const got = await Promise.race([reserving, deadline]).finally(() => clearTimeout(timer));
        if (got === "missed") throw new Error(`round ${round}: the reserve slept through the NOTIFY of a job enqueued while it ran`);
        expect(got).toHaveLength(1);
      }
    } finally {
      await runtime.close();
    }
  });
});
