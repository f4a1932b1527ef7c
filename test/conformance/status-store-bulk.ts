/**
 * Conformance, status stores: batches through every outcome in one call, repeats within a
 * call, empty batches; progress, reads and deletes. Registered by `statusStoreSuite`
 * (`status-store.ts`).
 */
import { describe, expect, it } from "vitest";

import { uuidv7, type Settlement } from "@errand/core/adapter";

import { boom, gone, HOUR, lease, outcome, payload, staleOf, statusOf, type WithStore } from "./status-store-harness.js";

/** Registers the bulk, progress, read and delete cases. */
export function bulkAndReadCases(withStore: WithStore): void {
  describe("bulk", () => {
    it("a batch goes through every outcome in one call each, stale ones left alone", async () => {
      await withStore(async (store) => {
        const jobs = Array.from({ length: 30 }, (_, i) => payload({ priority: i }));
        const first = jobs.map((p) => ({ id: p.id, lease: lease() }));
        await store.enqueued(jobs);
        await store.started(first);
        // Every sixth job was delivered again (its first lease ran out).
        const redelivered = jobs.filter((_, i) => i % 6 === 5);
        await store.started(redelivered.map((p) => ({ id: p.id, lease: lease() })));
        expect(await store.stale(first)).toEqual(new Set(redelivered.map((p) => p.id)));
        const next = new Date(Date.now() + HOUR);
        const settlements = jobs.map((p, i): Settlement => {
          switch (i % 6) {
            case 0:
              return outcome.succeeded(p.id, `r${i}`);
            case 1:
              return outcome.failed(p.id);
            case 2:
              return outcome.dead(p.id);
            case 3:
              return outcome.retry(p, next);
            case 4:
              return outcome.released(p.id);
            default:
              return outcome.succeeded(p.id, "stale");
          }
        });
        await store.settled(jobs.map((p, i) => ({ id: p.id, lease: first[i]!.lease, settlement: settlements[i]! })));
        const records = await store.get(jobs.map((p) => p.id));
        records.forEach((record, i) => {
          const expected = [
            { state: "succeeded", executions: 1, result: `r${i}` },
            { state: "failed", executions: 1, error: gone },
            { state: "dead", executions: 1, error: boom },
            { state: "retrying", executions: 1, error: boom, runAt: next },
            { state: "queued", executions: 0 },
            { state: "running", executions: 2 },
          ][i % 6];
          expect(record, `job ${i}`).toMatchObject({ id: jobs[i]!.id, priority: i, ...expected });
        });
      });
    });

    it("a job named twice in one call is changed twice, in order", async () => {
      await withStore(async (store) => {
        const p = payload();
        const [l1, l2] = [lease(), lease()];
        await store.enqueued([{ ...p, queue: "first" }, p]);
        expect(await statusOf(store, p.id)).toMatchObject({ queue: "reports" });
        await store.started([
          { id: p.id, lease: l1 },
          { id: p.id, lease: l2 },
        ]);
        expect(await statusOf(store, p.id)).toMatchObject({ state: "running", executions: 2 });
        expect(await staleOf(store, [p.id, l1])).toEqual([p.id]);
        await store.progress([
          { id: p.id, fraction: 0.1 },
          { id: p.id, fraction: 0.2, message: "second" },
        ]);
        expect((await statusOf(store, p.id)).progress).toEqual({ fraction: 0.2, message: "second" });
        await store.settled([
          { id: p.id, lease: l2, settlement: outcome.succeeded(p.id, "first") },
          { id: p.id, lease: l2, settlement: outcome.failed(p.id) },
        ]);
        expect(await statusOf(store, p.id)).toMatchObject({ state: "succeeded", result: "first" });
      });
    });

    it("empty batches do nothing", async () => {
      await withStore(async (store) => {
        await store.enqueued([]);
        await store.started([]);
        await store.settled([]);
        await store.progress([]);
        await store.delete([]);
        expect(await store.stale([])).toEqual(new Set());
        expect(await store.get([])).toEqual([]);
      });
    });
  });

  describe("progress, reads and deletes", () => {
    it("progress keeps the latest update of live jobs and ignores finished and unknown ones", async () => {
      await withStore(async (store) => {
        const [a, b] = [payload(), payload()];
        const [la, lb] = [lease(), lease()];
        await store.enqueued([a, b]);
        await store.started([{ id: a.id, lease: la }, { id: b.id, lease: lb }]);
        await store.progress([{ id: a.id, fraction: 0.25 }, { id: b.id, fraction: 0.5, message: "half" }]);
        expect((await statusOf(store, a.id)).progress).toEqual({ fraction: 0.25 });
        expect((await statusOf(store, b.id)).progress).toEqual({ fraction: 0.5, message: "half" });
        await store.progress([{ id: a.id, fraction: 0.75, message: "three quarters" }]);
        expect((await statusOf(store, a.id)).progress).toEqual({ fraction: 0.75, message: "three quarters" });
        await store.settled([{ id: a.id, lease: la, settlement: outcome.succeeded(a.id) }]);
        const unknown = uuidv7();
        await store.progress([{ id: a.id, fraction: 1, message: "late" }, { id: unknown, fraction: 0.5 }]);
        expect((await statusOf(store, a.id)).progress).toEqual({ fraction: 0.75, message: "three quarters" });
        expect(await store.get([unknown])).toEqual([null]);
      });
    });

    it("get answers in the order asked, with null for unknown ids and repeats for repeated ones", async () => {
      await withStore(async (store) => {
        const [a, b] = [payload({ job: "A" }), payload({ job: "B" })];
        await store.enqueued([a, b]);
        const records = await store.get([b.id, uuidv7(), a.id, "not-a-uuid", b.id]);
        expect(records.map((record) => record?.job ?? null)).toEqual(["B", null, "A", null, "B"]);
        expect(records[0]).toEqual(records[4]);
        expect(records[0]!.id).toBe(b.id);
      });
    });

    it("delete forgets jobs and their leases and leaves the others", async () => {
      await withStore(async (store) => {
        const [a, b] = [payload(), payload()];
        const [la, lb] = [lease(), lease()];
        await store.enqueued([a, b]);
        await store.started([{ id: a.id, lease: la }, { id: b.id, lease: lb }]);
        await store.settled([{ id: a.id, lease: la, settlement: outcome.dead(a.id) }]);
        await store.delete([a.id, uuidv7()]);
        expect(await store.get([a.id, b.id])).toEqual([null, expect.objectContaining({ id: b.id, state: "running" })]);
        expect(await staleOf(store, [a.id, la], [a.id, lease()])).toEqual([]);
        await store.delete([b.id]);
        expect(await staleOf(store, [b.id, lease()])).toEqual([]);
        expect(await store.get([b.id])).toEqual([null]);
        // A deleted id can be recorded again.
        await store.enqueued([a]);
        expect(await statusOf(store, a.id)).toMatchObject({ state: "queued", executions: 0 });
      });
    });
  });
}
