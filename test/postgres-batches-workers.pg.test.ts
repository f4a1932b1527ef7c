// A 10,000-job batch on PostgreSQL, made by `batch()` and drained by three workers of three
// runtimes, each with its own adapter and pool (three processes' worth of connections
// settling into the same batch row at once): each callback is stored and run once, after
// the last job, and the record's counts add up. (Across real processes with kill -9: the
// fault suite.)
import { afterEach, describe, expect, it } from "vitest";

import { batch, configure, Runtime, Worker } from "@errand/core";
import { PostgresAdapter } from "@errand/adapter-postgres";
import { waitFor } from "@errand/core/testing";

import { postgresUrl } from "./support/postgres.js";
import { freshPostgresAdapters } from "./support/postgres-adapters.js";
import { callbacks, ChunkJob, DoneJob } from "./support/batch-chunk-jobs.js";

const url = postgresUrl();
const freshAdapter = freshPostgresAdapters();
const runtimes: Runtime[] = [];
const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  workers.length = 0;
  await Promise.all(runtimes.map((runtime) => runtime.close()));
  runtimes.length = 0;
});

describe("a 10,000-job batch on PostgreSQL", () => {
  it("three workers on three pools drain it; onSuccess and onComplete are stored and run once each, after the last job", async () => {
    const first = freshAdapter();
    const runtime = configure({ adapter: first, jobs: [ChunkJob, DoneJob], worker: { embedded: false } });
    runtimes.push(runtime);
    for (let i = 0; i < 2; i++) {
      runtimes.push(new Runtime({ adapter: new PostgresAdapter({ url, schema: first.schema, poolSize: 4 }), jobs: [ChunkJob, DoneJob], worker: { embedded: false } }));
    }
    const id = await batch(
      Array.from({ length: 10_000 }, (_, index) => new ChunkJob(index)),
      { onSuccess: [DoneJob, ["ok"]], onComplete: [DoneJob, ["done"]], onFailure: [DoneJob, ["failed"]], description: "10k" },
    );
    for (const each of runtimes) workers.push(new Worker({ runtime: each, concurrency: 10 }));
    await Promise.all(workers.map((worker) => worker.start()));
    await waitFor(() => callbacks.length >= 2, { timeoutMs: 90_000, message: "the batch's callbacks to run" });
    // A job enqueued after the callbacks were stored: when it has run, a second copy would have too.
    const { jobId } = await DoneJob.performLater("sentinel");
    await waitFor(async () => (await DoneJob.status(jobId))?.state === "succeeded", { timeoutMs: 30_000, message: "the sentinel job" });
    const ran = callbacks.filter((entry) => entry.kind !== undefined);
    expect(ran.map((entry) => entry.kind).sort()).toEqual(["complete", "success"]);
    expect(ran.every((entry) => entry.performedBefore === 10_000)).toBe(true);
    const record = await batch.status(id);
    expect(record).toMatchObject({ state: "finished", total: 10_000, pending: 0, succeeded: 10_000, discarded: 0, dead: 0, failed: 0 });
    const stored = await first.pool.query(`SELECT count(*)::int AS n FROM "${first.schema}".jobs WHERE id = ANY($1::uuid[])`, [Object.values(record!.enqueuedCallbacks)]);
    expect(stored.rows[0].n).toBe(2);
  }, 150_000);
});
