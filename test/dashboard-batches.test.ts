// The dashboard's batch page and a job's link to its batch, on the async adapter, without a
// browser: a running batch (nothing works it yet), then the same batch finished with a dead
// job (onComplete and onFailure enqueued and linked, onSuccess not); an unknown id → 404;
// the access rule first; escaping; a backend without batches says so.
import { batch, configure, Job, Worker, type Runtime } from "@errand/core";
import { uuidv7 } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";
import { dashboard, type DashboardOptions } from "@errand/dashboard";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { get } from "./support/dashboard.js";

class RowJob extends Job<[row: number]> {
  static override jobName = "BatchRowJob";
  static override retry = [[Error, { attempts: 1 }]] as const;
  perform(row: number) {
    if (row < 0) throw new Error(`row ${row} is malformed`);
  }
}
let releaseDone!: () => void;
const doneGate = new Promise<void>((resolve) => (releaseDone = resolve));
/** The callbacks; "done" waits at a gate, so its page is read while it runs (the async adapter drops a finished job's payload, and with it the batch link). */
class DoneJob extends Job<[label: string]> {
  static override jobName = "BatchDoneJob";
  async perform(label: string) {
    if (label === "done") await doneGate;
  }
}

let runtime: Runtime;
let worker: Worker | undefined;
beforeAll(() => {
  runtime = configure({ adapter: "async", adapters: { plain: "inline" }, jobs: [RowJob, DoneJob], worker: { embedded: false } });
});
afterAll(async () => {
  releaseDone();
  await worker?.stop();
  await runtime.close();
});

const ui = (options: Partial<DashboardOptions> = {}) => dashboard({ basePath: "/ops", authorize: () => true, runtime, ...options });
const main = (text: string) => text.slice(text.indexOf("<main"), text.indexOf("</main>"));
async function page(path: string, status = 200, options: Partial<DashboardOptions> = {}): Promise<string> {
  const response = await get(ui(options), path);
  const text = await response.text();
  expect(response.status, `${path}: ${text.slice(0, 300)}`).toBe(status);
  return text;
}

describe("the batch page", () => {
  it("shows a running batch, then the same batch finished, its callbacks linked to their jobs", async () => {
    const rows = [new RowJob(1), new RowJob(2), new RowJob(-1)];
    const id = await batch(rows, {
      description: `<img src=x onerror="alert(1)"> rows`,
      onSuccess: [DoneJob, ["ok"]],
      onComplete: [DoneJob, ["done"]],
      onFailure: [DoneJob, ["failed"]],
    });

    const running = await page(`/ops/batches/${id}`);
    expect(running).toContain(`data-live="batch" data-batch-id="${id}"`);
    const before = main(running);
    expect(before).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt; rows");
    expect(before).not.toContain("<img");
    expect(before).toContain('data-batch-state>running</span>');
    expect(before).toContain(`data-batch-signature="running|3|3|0|0|0|0|,,"`);
    expect(before).toContain('aria-label="0 succeeded, 0 discarded, 0 dead, 3 pending of 3"');
    expect(before).toContain("0 of 3 jobs finished.");
    expect(before.match(/enqueued when every job has finished/g)).toHaveLength(3);
    expect(before).not.toContain(`href="/ops/jobs/`);

    // A member's page links to its batch.
    const member = main(await page(`/ops/jobs/${rows[0]!.jobId}`));
    expect(member).toMatch(new RegExp(`<dt>Batch</dt><dd><a href="/ops/batches/${id}" data-batch-link>`));

    worker = new Worker({ runtime, concurrency: 2, pollInterval: "20ms" });
    await worker.start();
    await waitFor(async () => (await batch.status(id))?.state === "finished", { timeoutMs: 20_000, message: "the batch to finish" });
    const record = (await batch.status(id))!;
    const complete = record.enqueuedCallbacks.complete!;
    const failure = record.enqueuedCallbacks.failure!;
    expect(record.enqueuedCallbacks.success).toBeUndefined();

    const after = main(await page(`/ops/batches/${id}`));
    expect(after).toContain('<span class="badge state-failed" data-batch-state>finished</span>');
    expect(after).toContain('aria-label="2 succeeded, 0 discarded, 1 dead, 0 pending of 3"');
    expect(after).toContain("3 of 3 jobs finished.");
    expect(after).toMatch(/<dt>Dead<\/dt><dd>1<\/dd>/);
    expect(after).toMatch(new RegExp(`<code>onComplete</code></th><td><a href="/ops/jobs/${complete}">`));
    expect(after).toMatch(new RegExp(`<code>onFailure</code></th><td><a href="/ops/jobs/${failure}">`));
    expect(after).toMatch(/<code>onSuccess<\/code><\/th><td><span class="muted">not enqueued: the batch has discarded or dead jobs/);
    expect(after).toMatch(/<dt>Finished<\/dt><dd><time datetime="\d{4}-/);

    // A callback's page names which callback of which batch it is.
    await waitFor(async () => (await DoneJob.status(complete))?.state === "running", { timeoutMs: 20_000, message: "the onComplete callback running" });
    const callback = main(await page(`/ops/jobs/${complete}`));
    expect(callback).toMatch(new RegExp(`<dt>Batch</dt><dd><code>onComplete</code> callback of batch <a href="/ops/batches/${id}" data-batch-link>`));
    releaseDone();
  }, 40_000);

  it("answers an unknown id with a 404 page, and a malformed one with a plain 404", async () => {
    const unknown = uuidv7();
    const text = main(await page(`/ops/batches/${unknown}`, 404));
    expect(text).toContain("No such batch");
    expect(text).toContain(`<code>${unknown}</code>`);
    const malformed = await get(ui(), "/ops/batches/%3Cscript%3E");
    expect(malformed.status).toBe(404);
    expect(await malformed.text()).toBe("Not found");
  });

  it("passes the access rule first", async () => {
    const id = await batch([new RowJob(3)], {});
    const response = await get(ui({ authorize: () => false }), `/ops/batches/${id}`);
    expect(response.status).toBe(403);
    expect(await response.text()).not.toContain(id);
  });

  it("says so on a backend without batches", async () => {
    const text = main(await page(`/ops/batches/${uuidv7()}`, 501, { adapter: "plain" }));
    expect(text).toContain("The inline backend does not support batches (capability batches).");
  });
});
