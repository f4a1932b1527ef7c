// PostgreSQL internals that only raw rows and server-side actions can show: the LISTEN
// connection comes back after the server drops it, and payloads are stored readable
// (retention: postgres-retention.pg.test.ts). Portable behaviour lives in the conformance suite.
import { describe, expect, it } from "vitest";
import pg from "pg";

import { configure, Job, Worker } from "@errand/core";
import { PostgresAdapter } from "@errand/adapter-postgres";
import { waitFor } from "@errand/core/testing";

import { postgresUrl } from "./support/postgres.js";
import { freshPostgresAdapters } from "./support/postgres-adapters.js";

const url = postgresUrl();
const freshAdapter = freshPostgresAdapters();

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
      // A narrow body: `_` and the payload without what the columns hold (postgres-body.pg.test.ts).
      expect(rows[0].body[0]).toBe("_");
      expect(JSON.parse(rows[0].body.slice(1))).toMatchObject({ job: "EchoJob", queue: "raw", args: { json: [7] }, executions: 0 });
    } finally {
      await runtime.close();
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
        // This adapter's listener only: other test files (or runs) may listen at the same time.
        admin.query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'errand-listener' AND query ILIKE 'LISTEN%' AND position($1 in query) > 0`, [
          `errand:${adapter.schema}`,
        ]);
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
