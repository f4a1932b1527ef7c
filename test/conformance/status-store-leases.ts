/**
 * Conformance, status stores: which delivery's lease is current, which are stale, and that
 * stale settlements change nothing. Registered by `statusStoreSuite` (`status-store.ts`).
 */
import { describe, expect, it } from "vitest";

import { uuidv7 } from "@errand/core/adapter";

import { HOUR, lease, outcome, payload, staleOf, statusOf, type WithStore } from "./status-store-harness.js";

/** Registers the lease cases. */
export function leaseCases(withStore: WithStore): void {
  describe("leases", () => {
    it("an id the store does not know is not stale", async () => {
      await withStore(async (store) => {
        expect(await staleOf(store, [uuidv7(), lease()], ["not-a-uuid", lease()])).toEqual([]);
      });
    });

    it("a job enqueued but never delivered is not stale under any lease", async () => {
      await withStore(async (store) => {
        const p = payload();
        await store.enqueued([p]);
        expect(await staleOf(store, [p.id, lease()])).toEqual([]);
      });
    });

    it("a job enqueued again and never delivered takes a settlement under any lease (SQS: a revived dead job whose send failed is dead again)", async () => {
      await withStore(async (store) => {
        const p = payload();
        const first = lease();
        await store.enqueued([p]);
        await store.started([{ id: p.id, lease: first }]);
        await store.settled([{ id: p.id, lease: first, settlement: outcome.dead(p.id) }]);
        await store.enqueued([{ ...p, executions: 0 }]);
        await store.settled([{ id: p.id, lease: lease(), settlement: outcome.dead(p.id) }]);
        expect(await statusOf(store, p.id)).toMatchObject({ state: "dead", error: { message: "boom" } });
      });
    });

    it("a redelivery counts another execution and makes the earlier lease stale", async () => {
      await withStore(async (store) => {
        const p = payload();
        const [l1, l2] = [lease(), lease()];
        await store.enqueued([p]);
        await store.started([{ id: p.id, lease: l1 }]);
        expect(await staleOf(store, [p.id, l1])).toEqual([]);
        expect(await staleOf(store, [p.id, l2])).toEqual([p.id]);
        // l1's lease ran out; the job is delivered again under l2.
        await store.started([{ id: p.id, lease: l2 }]);
        expect(await statusOf(store, p.id)).toMatchObject({ state: "running", executions: 2 });
        expect(await staleOf(store, [p.id, l1])).toEqual([p.id]);
        expect(await staleOf(store, [p.id, l2])).toEqual([]);
      });
    });

    it("a finished job's leases are stale, the one that settled it included", async () => {
      await withStore(async (store) => {
        const p = payload();
        const [l1, l2] = [lease(), lease()];
        await store.enqueued([p]);
        await store.started([{ id: p.id, lease: l1 }]);
        await store.started([{ id: p.id, lease: l2 }]);
        await store.settled([{ id: p.id, lease: l2, settlement: outcome.succeeded(p.id) }]);
        expect(await staleOf(store, [p.id, l1])).toEqual([p.id]);
        expect(await staleOf(store, [p.id, l2])).toEqual([p.id]);
      });
    });

    it("after a retry or a release, the next delivery's lease is current and the earlier one stale", async () => {
      await withStore(async (store) => {
        const [retried, released] = [payload(), payload()];
        const [r1, r2, s1, s2] = [lease(), lease(), lease(), lease()];
        await store.enqueued([retried, released]);
        await store.started([{ id: retried.id, lease: r1 }, { id: released.id, lease: s1 }]);
        await store.settled([
          { id: retried.id, lease: r1, settlement: outcome.retry(retried, new Date()) },
          { id: released.id, lease: s1, settlement: outcome.released(released.id) },
        ]);
        await store.started([{ id: retried.id, lease: r2 }, { id: released.id, lease: s2 }]);
        expect(await staleOf(store, [retried.id, r1], [released.id, s1])).toEqual([retried.id, released.id].sort());
        expect(await staleOf(store, [retried.id, r2], [released.id, s2])).toEqual([]);
      });
    });

    it("a stale settlement changes nothing", async () => {
      await withStore(async (store) => {
        const p = payload();
        const [l1, l2] = [lease(), lease()];
        await store.enqueued([p]);
        await store.started([{ id: p.id, lease: l1 }]);
        await store.started([{ id: p.id, lease: l2 }]);
        const running = await statusOf(store, p.id);
        // The first holder, whose lease ran out, reports every kind of outcome: all ignored.
        for (const settlement of [outcome.failed(p.id), outcome.dead(p.id), outcome.succeeded(p.id, "early"), outcome.released(p.id), outcome.retry(p, new Date(Date.now() + HOUR))]) {
          await store.settled([{ id: p.id, lease: l1, settlement }]);
        }
        expect(await statusOf(store, p.id)).toEqual(running);
        // The current holder's outcome counts.
        await store.settled([{ id: p.id, lease: l2, settlement: outcome.succeeded(p.id, "ok") }]);
        const done = await statusOf(store, p.id);
        expect(done).toMatchObject({ state: "succeeded", executions: 2, result: "ok" });
        // Once finished, neither lease can change it again.
        await store.settled([{ id: p.id, lease: l2, settlement: outcome.dead(p.id) }]);
        await store.settled([{ id: p.id, lease: l1, settlement: outcome.released(p.id) }]);
        expect(await statusOf(store, p.id)).toEqual(done);
      });
    });

    it("a duplicate delivery of a finished job holds a current lease and leaves the status alone", async () => {
      await withStore(async (store) => {
        const p = payload();
        const [l1, l2] = [lease(), lease()];
        await store.enqueued([p]);
        await store.started([{ id: p.id, lease: l1 }]);
        await store.settled([{ id: p.id, lease: l1, settlement: outcome.succeeded(p.id, "once") }]);
        const done = await statusOf(store, p.id);
        // A queue that delivers at least once hands the finished job out again: the worker must
        // be able to settle it (on SQS, to delete the message), and the status stays as it was.
        await store.started([{ id: p.id, lease: l2 }]);
        expect(await statusOf(store, p.id)).toEqual(done);
        expect(await staleOf(store, [p.id, l2])).toEqual([]);
        expect(await staleOf(store, [p.id, l1])).toEqual([p.id]);
        await store.settled([{ id: p.id, lease: l2, settlement: outcome.failed(p.id) }]);
        expect(await statusOf(store, p.id)).toEqual(done);
        expect(await staleOf(store, [p.id, l2])).toEqual([p.id]);
      });
    });

    it("deliveries of a job never recorded supersede each other without making a status", async () => {
      await withStore(async (store) => {
        const id = uuidv7();
        const [l1, l2] = [lease(), lease()];
        await store.started([{ id, lease: l1 }]);
        await store.started([{ id, lease: l2 }]);
        expect(await store.get([id])).toEqual([null]);
        expect(await staleOf(store, [id, l1])).toEqual([id]);
        expect(await staleOf(store, [id, l2])).toEqual([]);
        await store.settled([{ id, lease: l2, settlement: outcome.succeeded(id) }]);
        expect(await store.get([id])).toEqual([null]);
        // Settled: the store knows nothing of it again.
        expect(await staleOf(store, [id, l1], [id, l2])).toEqual([]);
      });
    });
  });
}
