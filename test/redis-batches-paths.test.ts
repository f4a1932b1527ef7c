// Batches in the Redis adapter on the paths beside the plain enqueue and settle: a dead job
// revived by retryDead, an operator's cancel, a retry moved to another queue by a retry rule,
// and jobs with flow control (stored by enqueue-flow.lua). Adapter level, through the
// Adapter API only (redis-batches.test.ts has the plain counts).
import { afterAll, describe, expect, it } from "vitest";

import type { JobPayload } from "@errand/core/adapter";

import { BatchAdapters, batchJobs, callbacksStored, newBatch, outcome, reserve } from "./support/redis-batches.js";

const adapters = new BatchAdapters();
afterAll(() => adapters.close());

/** Core's revival of a dead body: executions reset, due now. */
function revive(body: string) {
  const payload = { ...(JSON.parse(body) as JobPayload), executions: 0, runAt: new Date().toISOString() };
  return { payload, body: JSON.stringify(payload) };
}

describe("redis batches: retryDead", () => {
  it("a revived dead job is pending again; when it succeeds the success callback is stored, complete not again", async () => {
    const adapter = adapters.open();
    const batch = newBatch(["complete", "success", "failure"]);
    await adapter.openBatches({ batches: [batch] });
    await adapter.enqueue({ jobs: batchJobs(batch.id, 2) });
    await adapter.sealBatches({ ids: [batch.id] });
    const [ok, doomed] = await reserve(adapter);
    await adapter.settle({ settlements: [outcome(ok!, "s"), outcome(doomed!, "d")] });
    expect((await adapter.getBatches({ ids: [batch.id] }))[0]).toMatchObject({ state: "finished", pending: 0, dead: 1 });
    expect(await callbacksStored(adapter)).toEqual(["completeCallback", "failureCallback"]);

    expect(await adapter.retryDead({ select: { ids: [doomed!.providerJobId] }, revive })).toBe(1);
    expect((await adapter.getBatches({ ids: [batch.id] }))[0]).toMatchObject({ state: "finished", pending: 1, dead: 0 });
    await adapter.settle({ settlements: (await reserve(adapter)).map((r) => outcome(r, "s")) });
    const [record] = await adapter.getBatches({ ids: [batch.id] });
    expect(record).toMatchObject({ state: "finished", pending: 0, succeeded: 2, dead: 0 });
    expect(Object.keys(record!.enqueuedCallbacks).sort()).toEqual(["complete", "failure", "success"]);
    expect(await callbacksStored(adapter)).toEqual(["successCallback"]);
  });

  it("a revived job that dies again changes no callback; a discarded job keeps success away", async () => {
    const adapter = adapters.open();
    const batch = newBatch(["complete", "success"]);
    await adapter.openBatches({ batches: [batch] });
    await adapter.enqueue({ jobs: batchJobs(batch.id, 2) });
    await adapter.sealBatches({ ids: [batch.id] });
    const [dropped, doomed] = await reserve(adapter);
    await adapter.settle({ settlements: [outcome(dropped!, "f"), outcome(doomed!, "d")] });
    await adapter.retryDead({ select: { ids: [doomed!.providerJobId] }, revive });
    await adapter.settle({ settlements: (await reserve(adapter)).map((r) => outcome(r, "s")) });
    expect((await adapter.getBatches({ ids: [batch.id] }))[0]).toMatchObject({ discarded: 1, dead: 0, succeeded: 1, enqueuedCallbacks: { complete: batch.callbacks.complete!.id } });
    expect(await callbacksStored(adapter)).toEqual(["completeCallback"]);
  });
});

describe("redis batches: cancel", () => {
  it("a cancelled job counts as discarded, and a cancel that leaves nothing pending finishes the batch", async () => {
    const adapter = adapters.open();
    const batch = newBatch(["complete", "success", "failure"]);
    await adapter.openBatches({ batches: [batch] });
    const jobs = batchJobs(batch.id, 3);
    await adapter.enqueue({ jobs });
    await adapter.sealBatches({ ids: [batch.id] });
    const [running] = await reserve(adapter, "default", 1);
    await adapter.settle({ settlements: [outcome(running!, "s")] });
    const waiting = jobs.map((job) => job.id).filter((id) => id !== running!.providerJobId);
    expect((await adapter.changeJobs({ action: "cancel", ids: waiting })).sort()).toEqual([...waiting].sort());
    expect((await adapter.getBatches({ ids: [batch.id] }))[0]).toMatchObject({ state: "finished", pending: 0, succeeded: 1, discarded: 2 });
    expect(await callbacksStored(adapter)).toEqual(["completeCallback", "failureCallback"]);
  });
});

describe("redis batches: a retry moved to another queue", () => {
  it("counts one failed run, stays pending, and is counted once when it finishes in its new queue", async () => {
    const adapter = adapters.open();
    const batch = newBatch(["complete"]);
    await adapter.openBatches({ batches: [batch] });
    await adapter.enqueue({ jobs: batchJobs(batch.id, 1) });
    await adapter.sealBatches({ ids: [batch.id] });
    const [first] = await reserve(adapter);
    await adapter.settle({ settlements: [outcome(first!, "r", "elsewhere")] });
    expect((await adapter.getBatches({ ids: [batch.id] }))[0]).toMatchObject({ state: "running", total: 1, pending: 1, failed: 1 });
    const moved = await reserve(adapter, "elsewhere");
    expect(moved).toHaveLength(1);
    await adapter.settle({ settlements: [outcome(moved[0]!, "s")] });
    expect((await adapter.getBatches({ ids: [batch.id] }))[0]).toMatchObject({ state: "finished", total: 1, pending: 0, succeeded: 1, failed: 1 });
    expect(await callbacksStored(adapter)).toEqual(["completeCallback"]);
  });
});

describe("redis batches: jobs with flow control", () => {
  it("jobs stored by the flow path are counted (a unique duplicate is not), and finish the batch", async () => {
    const adapter = adapters.open();
    const batch = newBatch(["complete"]);
    await adapter.openBatches({ batches: [batch] });
    const limited = batchJobs(batch.id, 2, { flow: { concurrency: { key: "batch-c", limit: 5 } } });
    const unique = batchJobs(batch.id, 2, { flow: { unique: { key: "batch-u", while: "queued" } } });
    const results = await adapter.enqueue({ jobs: [...limited, ...unique] });
    expect(results.map((r) => r.duplicate === true)).toEqual([false, false, false, true]);
    await adapter.sealBatches({ ids: [batch.id] });
    expect((await adapter.getBatches({ ids: [batch.id] }))[0]).toMatchObject({ total: 3, pending: 3 });
    await adapter.settle({ settlements: (await reserve(adapter)).map((r) => outcome(r, "s")) });
    expect((await adapter.getBatches({ ids: [batch.id] }))[0]).toMatchObject({ state: "finished", succeeded: 3 });
    expect(await callbacksStored(adapter)).toEqual(["completeCallback"]);
  });
});
