// A 10,000-job batch on the async adapter, drained by three workers at once: each callback
// runs once, after the last job, and the record's counts add up. (The same across worker
// processes, with kill -9, is the fault suite's, on the durable backends.)
import { afterEach, describe, expect, it } from "vitest";

import { batch, configure, Worker, type Runtime } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { callbacks, ChunkJob, DoneJob } from "./support/batch-chunk-jobs.js";

let runtime: Runtime | undefined;
const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  workers.length = 0;
  await runtime?.close();
});

describe("a 10,000-job batch on the async adapter", () => {
  it("three workers drain it; onSuccess and onComplete run once each, after the last job", async () => {
    runtime = configure({ adapter: "async", jobs: [ChunkJob, DoneJob], worker: { embedded: false } });
    const jobs = Array.from({ length: 10_000 }, (_, index) => new ChunkJob(index));
    const id = await batch(jobs, { onSuccess: [DoneJob, ["ok"]], onComplete: [DoneJob, ["done"]], onFailure: [DoneJob, ["failed"]] });
    for (let index = 0; index < 3; index++) workers.push(new Worker({ runtime, concurrency: 10 }));
    await Promise.all(workers.map((worker) => worker.start()));
    await waitFor(() => callbacks.length >= 2, { timeoutMs: 60_000, message: "the batch's callbacks to run" });
    // A job enqueued after the callbacks were stored: when it has run, a second copy would have too.
    const { jobId } = await DoneJob.performLater("sentinel");
    await waitFor(async () => (await DoneJob.status(jobId))?.state === "succeeded", { message: "the sentinel job" });
    expect(callbacks.filter((entry) => entry.kind !== undefined).map((entry) => entry.kind).sort()).toEqual(["complete", "success"]);
    expect(callbacks.filter((entry) => entry.kind !== undefined).every((entry) => entry.performedBefore === 10_000)).toBe(true);
    expect(await batch.status(id)).toMatchObject({ state: "finished", total: 10_000, pending: 0, succeeded: 10_000, discarded: 0, dead: 0, failed: 0 });
  }, 90_000);
});
