import { describe, expect, it } from "vitest";

import type { NewBatch } from "../src/adapter/batch.js";
import { MemoryBatches } from "../src/memory/batches.js";

const callback = (id: string) => ({
  v: 1 as const,
  job: "NotifyJob",
  id: `cb-${id}`,
  queue: "default",
  priority: 0,
  args: { json: [] },
  executions: 0,
  enqueuedAt: "2026-12-04T00:00:00.000Z",
  runAt: "2026-12-04T00:00:00.000Z",
  batch: { id, callback: "complete" as const },
});
const newBatch = (id: string): NewBatch => ({ id, callbacks: { complete: callback(id) }, createdAt: "2026-12-04T00:00:00.000Z" });

/** Batches whose callbacks, as stored, land in `stored` (ids). */
function recording(ttlMs: number): { batches: MemoryBatches; stored: string[] } {
  const stored: string[] = [];
  return { batches: new MemoryBatches(ttlMs, (payloads) => stored.push(...payloads.map((payload) => payload.id))), stored };
}

describe("MemoryBatches retention", () => {
  it("drops a finished record after the TTL, checked when a batch is opened; keeps running ones", () => {
    const { batches, stored } = recording(1000);
    batches.open([newBatch("done"), newBatch("running")], 0);
    batches.stored("running");
    batches.seal(["done", "running"], 10);
    expect(stored).toEqual(["cb-done"]);
    batches.open([newBatch("later")], 1009);
    expect(batches.get(["done"])[0]?.state).toBe("finished");
    batches.open([newBatch("after-ttl")], 1011);
    expect(batches.get(["done", "running"])).toEqual([null, expect.objectContaining({ state: "running" })]);
  });

  it("a finished record with a revived job pending is kept until that job finishes, then counted from then", () => {
    const { batches, stored } = recording(1000);
    batches.open([newBatch("b")], 0);
    batches.stored("b");
    batches.seal(["b"], 0);
    expect(stored).toEqual([]);
    batches.finished("b", "dead", 5);
    expect(stored).toEqual(["cb-b"]);
    batches.revived("b");
    batches.open([newBatch("x")], 5000);
    expect(batches.get(["b"])[0]).toMatchObject({ state: "finished", pending: 1, dead: 0 });
    // Finishes again: no callback a second time; kept a TTL from now.
    batches.finished("b", "succeeded", 6000);
    expect(stored).toEqual(["cb-b"]);
    batches.open([newBatch("y")], 6500);
    expect(batches.get(["b"])[0]).toMatchObject({ pending: 0, succeeded: 1 });
    batches.open([newBatch("z")], 7001);
    expect(batches.get(["b"])).toEqual([null]);
  });

  it("opening an id twice, or sealing an unknown one, fails naming it and changes nothing", () => {
    const { batches, stored } = recording(1000);
    batches.open([newBatch("a")], 0);
    expect(() => batches.open([newBatch("c"), newBatch("a")], 0)).toThrow(/batch a already exists/);
    expect(batches.get(["c"])).toEqual([null]);
    expect(() => batches.seal(["a", "nope"], 0)).toThrow(/batch nope does not exist/);
    expect(batches.get(["a"])[0]?.state).toBe("open");
    expect(stored).toEqual([]);
  });
});
