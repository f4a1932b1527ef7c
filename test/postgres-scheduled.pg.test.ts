// Migration 012: jobs whose run_at is ahead wait outside the ready indexes (lease_token −2)
// and a reserve promotes them once due. What the raw rows show, and that statuses, counts
// and reserve order are those of before (the conformance suite holds the portable part).
import { randomUUID } from "node:crypto";

import { afterAll, describe, expect, it } from "vitest";

import { PostgresAdapter } from "@errand/adapter-postgres";
import type { JobPayload } from "@errand/core/adapter";

import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";

const url = postgresUrl();
const schemas: string[] = [];
afterAll(() => dropSchemas(url, schemas));

function payload(runAt: Date, fields: Partial<JobPayload> = {}): JobPayload {
  return {
    v: 1, job: "ScheduledJob", id: randomUUID(), queue: "sched", priority: 0, args: { json: [1] }, executions: 0,
    enqueuedAt: new Date().toISOString(), runAt: runAt.toISOString(), ...fields,
  };
}

describe("postgres scheduled jobs (migration 012)", () => {
  it("keeps jobs not yet due out of the ready set, then reserves them by priority once due", async () => {
    const schema = schemaName();
    schemas.push(schema);
    const adapter = new PostgresAdapter({ url, schema, poolSize: 2, leaseCheckMs: 50 });
    const tokens = async (ids: string[]) =>
      (await adapter.pool.query<{ lease_token: string | null }>(
        `SELECT lease_token FROM "${schema}".jobs AS j JOIN unnest($1::uuid[]) WITH ORDINALITY AS x(id, n) ON j.id = x.id ORDER BY x.n`, [ids],
      )).rows.map((row) => row.lease_token);
    const reserve = () => adapter.reserve({ queues: ["sched"], max: 10, leaseMs: 30_000, waitMs: 0, workerId: "sched" });
    try {
      await adapter.migrate();
      const later = payload(new Date(Date.now() + 60_000), { priority: 5 });
      const now = payload(new Date());
      await adapter.enqueue({ jobs: [later, now] });
      expect(await tokens([later.id, now.id])).toEqual(["-2", null]);
      expect((await adapter.getStatus({ ids: [later.id] }))[0]?.state).toBe("scheduled");

      // Only the due job; it fails and retries with a backoff: scheduled again, read as retrying.
      const [running, ...rest] = await reserve();
      expect([running?.providerJobId, rest]).toEqual([now.id, []]);
      const retryAt = new Date(Date.now() + 30_000);
      const failure = { name: "Error", message: "boom" };
      await adapter.settle({
        settlements: [{ reservation: running!, outcome: "retry", payload: { ...now, executions: 1, runAt: retryAt.toISOString() }, runAt: retryAt, error: failure }],
      });
      expect(await tokens([later.id, now.id])).toEqual(["-2", "-2"]);
      expect((await adapter.getStatus({ ids: [now.id] }))[0]?.state).toBe("retrying");
      expect(await adapter.listQueues()).toMatchObject([{ name: "sched", queued: 0, scheduled: 1, running: 0, retrying: 1, dead: 0 }]);
      expect(await reserve()).toEqual([]);

      // Both due (moved into the past, as time would): one reserve promotes both and hands
      // them out in priority order (the retried job, priority 0, before the one scheduled
      // first at priority 5).
      await adapter.pool.query(`UPDATE "${schema}".jobs SET run_at = run_at - interval '2 minutes'`);
      expect(await tokens([later.id, now.id])).toEqual(["-2", "-2"]);
      expect((await reserve()).map((r) => r.providerJobId)).toEqual([now.id, later.id]);
      expect(await tokens([later.id, now.id])).not.toContain("-2");
    } finally {
      await adapter.close();
    }
  });

  it("promotes due jobs in steps of 1,000, oldest first, so no reserve waits on a large backlog", async () => {
    const schema = schemaName();
    schemas.push(schema);
    const adapter = new PostgresAdapter({ url, schema, poolSize: 2 });
    try {
      await adapter.migrate();
      // 2,500 jobs whose time has come while they waited as scheduled (enqueued with run_at
      // ahead, then moved into the past as time would).
      const jobs = Array.from({ length: 2500 }, (_, i) => payload(new Date(Date.now() + 60_000 + i)));
      await adapter.enqueue({ jobs });
      await adapter.pool.query(`UPDATE "${schema}".jobs SET run_at = run_at - interval '1 hour'`);
      const ready = async () => Number((await adapter.pool.query(`SELECT count(*) AS n FROM "${schema}".jobs WHERE lease_token IS NULL`)).rows[0].n);
      expect(await ready()).toBe(0);
      const first = await adapter.reserve({ queues: ["sched"], max: 10, leaseMs: 30_000, waitMs: 0, workerId: "sched" });
      expect(first.map((r) => r.providerJobId)).toEqual(jobs.slice(0, 10).map((j) => j.id));
      expect(await ready()).toBe(990);
      await adapter.reserve({ queues: "*", max: 10, leaseMs: 30_000, waitMs: 0, workerId: "sched" });
      expect(await ready()).toBe(1980);
      const third = await adapter.reserve({ queues: ["sched"], max: 1000, leaseMs: 30_000, waitMs: 0, workerId: "sched" });
      expect(third.map((r) => r.providerJobId)).toEqual(jobs.slice(20, 1020).map((j) => j.id));
      expect(await ready()).toBe(1480);
    } finally {
      await adapter.close();
    }
  });
});
