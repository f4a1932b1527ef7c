/**
 * Conformance: status stores keep one job's writes in order. The writes of a job come from
 * several places (a reserve recording a delivery, a worker's batched settlements, a reserve
 * in another process) and may land in another order than the backend saw them. A store
 * must then give the result of the order that happened: a delivery's settlement that lands
 * after the next delivery was settled is stale, and a settlement landing twice counts once.
 *
 * Each case issues the writes in the troublesome order itself, one call after another, so
 * it fails on every run on a store without the guard instead of on an unlucky one.
 *
 * Registered by `statusStoreSuite` (`status-store.ts`).
 */
import { describe, expect, it } from "vitest";

import { lease, outcome, payload, type WithStore } from "./status-store-harness.js";

/** Registers the write-order cases. */
export function writeOrderCases(withStore: WithStore): void {
  describe("write order", () => {
    it("a delivery's settlement landing after the next delivery was handed back changes nothing", async () => {
      await withStore(async (store) => {
        const job = payload();
        const [first, second] = [lease(), lease()];
        await store.enqueued([job]);
        await store.started([{ id: job.id, lease: first }]);
        // The first holder's lease ran out; the job was delivered again and handed back.
        await store.started([{ id: job.id, lease: second }]);
        await store.settled([{ id: job.id, lease: second, settlement: outcome.released(job.id) }]);
        // The first holder's outcome lands last.
        expect(await store.stale([{ id: job.id, lease: first }])).toEqual(new Set([job.id]));
        await store.settled([{ id: job.id, lease: first, settlement: outcome.succeeded(job.id) }]);
        const [status] = await store.get([job.id]);
        expect(status).toMatchObject({ state: "queued", executions: 1 });
        expect(status!.finishedAt).toBeUndefined();
      });
    });

    it("a delivery settled twice counts once, in two calls or in one batch", async () => {
      await withStore(async (store) => {
        const [apart, together] = [payload({ executions: 3 }), payload({ executions: 3 })];
        const [a, b] = [lease(), lease()];
        await store.enqueued([apart, together]);
        await store.started([
          { id: apart.id, lease: a },
          { id: together.id, lease: b },
        ]);
        await store.settled([{ id: apart.id, lease: a, settlement: outcome.released(apart.id) }]);
        await store.settled([{ id: apart.id, lease: a, settlement: outcome.released(apart.id) }]);
        await store.settled([
          { id: together.id, lease: b, settlement: outcome.released(together.id) },
          { id: together.id, lease: b, settlement: outcome.released(together.id) },
        ]);
        const statuses = await store.get([apart.id, together.id]);
        // Four runs started before, one more started and handed back: still four before the next.
        expect(statuses.map((s) => [s?.state, s?.executions])).toEqual([
          ["queued", 3],
          ["queued", 3],
        ]);
        expect(await store.stale([{ id: apart.id, lease: a }])).toEqual(new Set([apart.id]));
      });
    });

    it("a settled delivery's ended lease does not stop the next delivery, nor a job enqueued again", async () => {
      await withStore(async (store) => {
        const job = payload();
        const [first, second, unseen] = [lease(), lease(), lease()];
        await store.enqueued([job]);
        await store.started([{ id: job.id, lease: first }]);
        await store.settled([{ id: job.id, lease: first, settlement: outcome.released(job.id) }]);
        await store.started([{ id: job.id, lease: second }]);
        expect(await store.stale([{ id: job.id, lease: second }])).toEqual(new Set());
        await store.settled([{ id: job.id, lease: second, settlement: outcome.released(job.id) }]);
        // Enqueued again (a dead job moved back), it starts afresh: no ended lease is kept.
        await store.enqueued([job]);
        expect(await store.stale([{ id: job.id, lease: unseen }])).toEqual(new Set());
        await store.started([{ id: job.id, lease: unseen }]);
        await store.settled([{ id: job.id, lease: unseen, settlement: outcome.succeeded(job.id) }]);
        expect((await store.get([job.id]))[0]).toMatchObject({ state: "succeeded", executions: 1 });
      });
    });
  });
}
