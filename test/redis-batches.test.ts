// Batches in the Redis adapter, at the adapter's level (reserve and settle by hand): the
// counts the enqueue and settle scripts keep, the callbacks they store once, the refusals and
// the retention. Portable behaviour through the Adapter API only; the cluster's refusal is in
// redis-flow-cluster.redis.test.ts (it needs a cluster).
import { afterAll, describe, expect, it } from "vitest";

import type { JobPayload } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { payload } from "./conformance/harness.js";
import { BatchAdapters, batchJobs, CALLBACKS, callbacksStored, newBatch, outcome, reserve } from "./support/redis-batches.js";

const adapters = new BatchAdapters();
afterAll(() => adapters.close());

describe("redis batches: counting", () => {
  it("counts every outcome of several jobs of one batch settled in one call, then stores complete and failure", async () => {
    const adapter = adapters.open();
    expect(adapter.capabilities.batches).toBe(true);
    const batch = newBatch(["complete", "success", "failure"], "nightly import");
    await adapter.openBatches({ batches: [batch] });
    await adapter.enqueue({ jobs: [...batchJobs(batch.id, 5), ...batchJobs(batch.id, 1, { queue: "other" })] });
    await adapter.sealBatches({ ids: [batch.id] });
    expect((await adapter.getBatches({ ids: [batch.id] }))[0]).toMatchObject({ state: "running", total: 6, pending: 6, description: "nightly import" });

    const [a, b, c, d, e] = await reserve(adapter);
    // s, s, f, d and a retry, in one settle call of one queue.
    await adapter.settle({ settlements: [outcome(a!, "s"), outcome(b!, "s"), outcome(c!, "f"), outcome(d!, "d"), outcome(e!, "r")] });
    expect((await adapter.getBatches({ ids: [batch.id] }))[0]).toMatchObject({ state: "running", total: 6, pending: 2, succeeded: 2, discarded: 1, dead: 1, failed: 1 });
    expect(await callbacksStored(adapter)).toEqual([]);

    const retried = await reserve(adapter);
    const other = await reserve(adapter, "other");
    await adapter.settle({ settlements: [outcome(retried[0]!, "s"), outcome(other[0]!, "s")] });
    const [record] = await adapter.getBatches({ ids: [batch.id] });
    expect(record).toMatchObject({ state: "finished", total: 6, pending: 0, succeeded: 4, discarded: 1, dead: 1, failed: 1 });
    expect(record!.callbacks).toEqual({ complete: true, success: true, failure: true });
    expect(record!.enqueuedCallbacks).toEqual({ complete: batch.callbacks.complete!.id, failure: batch.callbacks.failure!.id });
    expect(Date.parse(record!.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(record!.createdAt));
    expect(await callbacksStored(adapter)).toEqual(["completeCallback", "failureCallback"]);
  });

  it("stores a callback as given, with its batch link, and its status record", async () => {
    const adapter = adapters.open();
    const batch = newBatch(["success"]);
    await adapter.openBatches({ batches: [batch] });
    await adapter.enqueue({ jobs: batchJobs(batch.id, 1) });
    await adapter.sealBatches({ ids: [batch.id] });
    await adapter.settle({ settlements: (await reserve(adapter)).map((r) => outcome(r, "s")) });
    const callback = batch.callbacks.success!;
    expect((await adapter.getStatus({ ids: [callback.id] }))[0]).toMatchObject({ state: "queued", queue: CALLBACKS, job: "successCallback" });
    const [reserved] = await reserve(adapter, CALLBACKS);
    expect(JSON.parse(reserved!.body) as JobPayload).toEqual(callback);
  });

  it("an open batch does not finish however many of its jobs finish; sealing it then finishes it", async () => {
    const adapter = adapters.open();
    const batch = newBatch(["complete", "success"]);
    await adapter.openBatches({ batches: [batch] });
    await adapter.enqueue({ jobs: batchJobs(batch.id, 3) });
    await adapter.settle({ settlements: (await reserve(adapter)).map((r) => outcome(r, "s")) });
    expect((await adapter.getBatches({ ids: [batch.id] }))[0]).toMatchObject({ state: "open", total: 3, pending: 0, succeeded: 3, enqueuedCallbacks: {} });
    expect(await callbacksStored(adapter)).toEqual([]);
    await adapter.sealBatches({ ids: [batch.id] });
    await adapter.sealBatches({ ids: [batch.id] });
    expect((await adapter.getBatches({ ids: [batch.id] }))[0]).toMatchObject({ state: "finished" });
    expect(await callbacksStored(adapter)).toEqual(["completeCallback", "successCallback"]);
  });

  it("an empty batch finishes when sealed; an unknown id reads null", async () => {
    const adapter = adapters.open();
    const batch = newBatch(["complete", "failure"]);
    await adapter.openBatches({ batches: [batch] });
    await adapter.sealBatches({ ids: [batch.id] });
    const [record, unknown] = await adapter.getBatches({ ids: [batch.id, "no-such-batch"] });
    expect(record).toMatchObject({ state: "finished", total: 0, enqueuedCallbacks: { complete: batch.callbacks.complete!.id } });
    expect(record).not.toHaveProperty("description");
    expect(unknown).toBeNull();
    expect(await callbacksStored(adapter)).toEqual(["completeCallback"]);
  });

  it("jobs added to a running batch (fan-out) are counted, and the batch waits for them", async () => {
    const adapter = adapters.open();
    const batch = newBatch(["complete"]);
    await adapter.openBatches({ batches: [batch] });
    await adapter.enqueue({ jobs: batchJobs(batch.id, 1) });
    await adapter.sealBatches({ ids: [batch.id] });
    const [parent] = await reserve(adapter);
    // The running job adds two, then finishes.
    await adapter.enqueue({ jobs: batchJobs(batch.id, 2) });
    await adapter.settle({ settlements: [outcome(parent!, "s")] });
    expect((await adapter.getBatches({ ids: [batch.id] }))[0]).toMatchObject({ state: "running", total: 3, pending: 2 });
    await adapter.settle({ settlements: (await reserve(adapter)).map((r) => outcome(r, "s")) });
    expect((await adapter.getBatches({ ids: [batch.id] }))[0]).toMatchObject({ state: "finished", total: 3, succeeded: 3 });
    expect(await callbacksStored(adapter)).toEqual(["completeCallback"]);
  });

  it("a job sent twice (a retried enqueue) is counted once", async () => {
    const adapter = adapters.open();
    const batch = newBatch([]);
    await adapter.openBatches({ batches: [batch] });
    const jobs = batchJobs(batch.id, 2);
    await adapter.enqueue({ jobs });
    await adapter.enqueue({ jobs });
    expect((await adapter.getBatches({ ids: [batch.id] }))[0]).toMatchObject({ total: 2, pending: 2 });
  });
});

describe("redis batches: the last settles at the same moment", () => {
  it("two adapters settling a batch's last jobs at once store each callback once (50 rounds)", async () => {
    const first = adapters.open();
    const second = adapters.open(first.keys.prefix);
    for (let round = 0; round < 50; round++) {
      const batch = newBatch(["complete", "success"]);
      await first.openBatches({ batches: [batch] });
      await first.enqueue({ jobs: batchJobs(batch.id, 6) });
      await first.sealBatches({ ids: [batch.id] });
      const mine = await reserve(first, "default", 3);
      const theirs = await reserve(second, "default", 3);
      expect(mine.length + theirs.length).toBe(6);
      await Promise.all([
        first.settle({ settlements: mine.map((r) => outcome(r, "s")) }),
        second.settle({ settlements: theirs.map((r) => outcome(r, "s")) }),
      ]);
      const [record] = await first.getBatches({ ids: [batch.id] });
      expect(record).toMatchObject({ state: "finished", pending: 0, succeeded: 6 });
      expect(record!.enqueuedCallbacks).toEqual({ complete: batch.callbacks.complete!.id, success: batch.callbacks.success!.id });
      expect(await callbacksStored(first)).toEqual(["completeCallback", "successCallback"]);
    }
  });
});

describe("redis batches: refusals", () => {
  it("an enqueue naming an unknown batch fails, naming it, and stores nothing of the call in any queue", async () => {
    const adapter = adapters.open();
    const batch = newBatch([]);
    await adapter.openBatches({ batches: [batch] });
    // Jobs of no batch, of a known batch and of an unknown one, in two queues: five script calls.
    const jobs = [payload(), ...batchJobs(batch.id, 2), payload({ queue: "other" }), ...batchJobs("no-such-batch", 2, { queue: "other" })];
    await expect(adapter.enqueue({ jobs })).rejects.toThrow(`enqueue: job ${jobs[4]!.id} names batch no-such-batch, which does not exist`);
    const flow = adapter.enqueue({ jobs: [payload(), ...batchJobs("gone-batch", 1, { flow: { unique: { key: "u", while: "queued" } } })] });
    await expect(flow).rejects.toThrow(/names batch gone-batch, which does not exist/);
    expect(await reserve(adapter)).toEqual([]);
    expect(await reserve(adapter, "other")).toEqual([]);
    expect((await adapter.getBatches({ ids: [batch.id] }))[0]).toMatchObject({ total: 0 });
  });

  it("opening an id twice and sealing an unknown id are errors naming the id", async () => {
    const adapter = adapters.open();
    const batch = newBatch([]);
    await adapter.openBatches({ batches: [batch] });
    await expect(adapter.openBatches({ batches: [newBatch([]), batch] })).rejects.toThrow(`openBatches: batch ${batch.id} already exists`);
    await expect(adapter.sealBatches({ ids: [batch.id, "nope"] })).rejects.toThrow("sealBatches: batch nope does not exist");
    // Nothing was sealed by the refused call.
    expect((await adapter.getBatches({ ids: [batch.id] }))[0]).toMatchObject({ state: "open" });
  });
});

describe("redis batches: retention", () => {
  it("a finished batch expires with the finished jobs' retention; a running one stays", async () => {
    const adapter = adapters.open(undefined, { retentionMs: 300 });
    const done = newBatch(["complete"]);
    const running = newBatch(["complete"]);
    await adapter.openBatches({ batches: [done, running] });
    await adapter.enqueue({ jobs: batchJobs(running.id, 1, { queue: "slow" }) });
    await adapter.sealBatches({ ids: [done.id, running.id] });
    expect((await adapter.getBatches({ ids: [done.id] }))[0]).toMatchObject({ state: "finished" });
    await waitFor(async () => (await adapter.getBatches({ ids: [done.id] }))[0] === null, { message: "the finished batch to expire" });
    expect((await adapter.getBatches({ ids: [running.id] }))[0]).toMatchObject({ state: "running", pending: 1 });
  });
});
