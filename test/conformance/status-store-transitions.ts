/**
 * Conformance, status stores: each transition (enqueued, started, settled by outcome,
 * enqueued again) and the record it leaves. Registered by `statusStoreSuite` (`status-store.ts`).
 */
import { describe, expect, it } from "vitest";

import { boom, expectDuring, gone, HOUR, later, lease, outcome, payload, staleOf, statusOf, type WithStore } from "./status-store-harness.js";

/** Registers the transitions cases. */
export function transitionsCases(withStore: WithStore): void {
  describe("transitions", () => {
    it("records an enqueued job as queued, or scheduled while its runAt is later", async () => {
      await withStore(async (store) => {
        const due = payload({ executions: 2 });
        const scheduled = payload({ runAt: later(), queue: "mail", priority: -5, job: "DigestJob" });
        const before = Date.now();
        await store.enqueued([due, scheduled]);
        const after = Date.now();
        const [a, b] = await store.get([due.id, scheduled.id]);
        expect(a).toEqual({
          id: due.id,
          job: "ReportJob",
          queue: "reports",
          priority: 3,
          state: "queued",
          executions: 2,
          enqueuedAt: new Date(due.enqueuedAt),
          runAt: new Date(due.runAt),
          updatedAt: expect.any(Date),
        });
        expectDuring(a!.updatedAt, before, after);
        expect(b).toMatchObject({ id: scheduled.id, job: "DigestJob", queue: "mail", priority: -5, state: "scheduled", executions: 0 });
        expect(b!.runAt).toEqual(new Date(scheduled.runAt));
        for (const record of [a!, b!]) {
          expect(record.startedAt).toBeUndefined();
          expect(record.finishedAt).toBeUndefined();
          expect(record.error).toBeUndefined();
          expect(record.result).toBeUndefined();
          expect(record.progress).toBeUndefined();
        }
      });
    });

    it("started marks a job running, counts one more execution and stamps startedAt", async () => {
      await withStore(async (store) => {
        const p = payload({ executions: 1 });
        await store.enqueued([p]);
        const enqueued = await statusOf(store, p.id);
        const before = Date.now();
        await store.started([{ id: p.id, lease: lease() }]);
        const after = Date.now();
        const running = await statusOf(store, p.id);
        expect(running).toMatchObject({ state: "running", executions: 2, queue: "reports", priority: 3 });
        expectDuring(running.startedAt, before, after);
        expect(running.updatedAt.getTime()).toBeGreaterThanOrEqual(enqueued.updatedAt.getTime());
        expect(running.finishedAt).toBeUndefined();
      });
    });

    it("succeeded finishes a job with its result, or with none", async () => {
      await withStore(async (store) => {
        const [withResult, without] = [payload(), payload()];
        const [l1, l2] = [lease(), lease()];
        await store.enqueued([withResult, without]);
        await store.started([{ id: withResult.id, lease: l1 }, { id: without.id, lease: l2 }]);
        const before = Date.now();
        await store.settled([
          { id: withResult.id, lease: l1, settlement: outcome.succeeded(withResult.id, '{"json":{"rows":3}}') },
          { id: without.id, lease: l2, settlement: outcome.succeeded(without.id) },
        ]);
        const after = Date.now();
        const [a, b] = await store.get([withResult.id, without.id]);
        expect(a).toMatchObject({ state: "succeeded", executions: 1, result: '{"json":{"rows":3}}' });
        expectDuring(a!.finishedAt, before, after);
        expect(a!.error).toBeUndefined();
        expect(b).toMatchObject({ state: "succeeded", executions: 1 });
        expect(b!.result).toBeUndefined();
        expect(b!.finishedAt).toBeInstanceOf(Date);
      });
    });

    it("failed and dead finish a job with its error", async () => {
      await withStore(async (store) => {
        const [discarded, buried] = [payload(), payload()];
        const [l1, l2] = [lease(), lease()];
        await store.enqueued([discarded, buried]);
        await store.started([{ id: discarded.id, lease: l1 }, { id: buried.id, lease: l2 }]);
        await store.settled([
          { id: discarded.id, lease: l1, settlement: outcome.failed(discarded.id) },
          { id: buried.id, lease: l2, settlement: outcome.dead(buried.id) },
        ]);
        const [a, b] = await store.get([discarded.id, buried.id]);
        expect(a).toMatchObject({ state: "failed", executions: 1, error: gone });
        expect(b).toMatchObject({ state: "dead", executions: 1, error: boom });
        expect(a!.finishedAt).toBeInstanceOf(Date);
        expect(b!.finishedAt).toBeInstanceOf(Date);
        expect(a!.result).toBeUndefined();
      });
    });

    it("retry waits for the next attempt with the error and the new runAt, queue and priority", async () => {
      await withStore(async (store) => {
        const p = payload();
        const [l1, l2] = [lease(), lease()];
        await store.enqueued([p]);
        await store.started([{ id: p.id, lease: l1 }]);
        const next = new Date(Date.now() + HOUR);
        await store.settled([{ id: p.id, lease: l1, settlement: outcome.retry(p, next, { queue: "reports-slow", priority: 9 }) }]);
        const retrying = await statusOf(store, p.id);
        expect(retrying).toMatchObject({ state: "retrying", executions: 1, error: boom, queue: "reports-slow", priority: 9 });
        expect(retrying.runAt).toEqual(next);
        expect(retrying.finishedAt).toBeUndefined();
        // The next delivery runs it again.
        await store.started([{ id: p.id, lease: l2 }]);
        expect(await statusOf(store, p.id)).toMatchObject({ state: "running", executions: 2, queue: "reports-slow" });
        await store.settled([{ id: p.id, lease: l2, settlement: outcome.succeeded(p.id, "done") }]);
        expect(await statusOf(store, p.id)).toMatchObject({ state: "succeeded", executions: 2, result: "done" });
      });
    });

    it("released puts a job back uncounted: queued when due, scheduled while its runAt is later", async () => {
      await withStore(async (store) => {
        const [due, backedOff] = [payload(), payload()];
        const [l1, l2, l3] = [lease(), lease(), lease()];
        await store.enqueued([due, backedOff]);
        await store.started([{ id: due.id, lease: l1 }, { id: backedOff.id, lease: l2 }]);
        // backedOff failed once and waits an hour; then a worker takes it early and hands it back (shutdown).
        await store.settled([{ id: backedOff.id, lease: l2, settlement: outcome.retry(backedOff, new Date(Date.now() + HOUR)) }]);
        await store.started([{ id: backedOff.id, lease: l3 }]);
        await store.settled([
          { id: due.id, lease: l1, settlement: outcome.released(due.id) },
          { id: backedOff.id, lease: l3, settlement: outcome.released(backedOff.id) },
        ]);
        const [a, b] = await store.get([due.id, backedOff.id]);
        expect(a).toMatchObject({ state: "queued", executions: 0 });
        expect(b).toMatchObject({ state: "scheduled", executions: 1 });
        expect(a!.finishedAt).toBeUndefined();
        expect(b!.finishedAt).toBeUndefined();
      });
    });

    it("a job enqueued again (a dead job moved back) starts afresh", async () => {
      await withStore(async (store) => {
        const p = payload();
        const l1 = lease();
        await store.enqueued([p]);
        await store.started([{ id: p.id, lease: l1 }]);
        await store.progress([{ id: p.id, fraction: 0.5 }]);
        await store.settled([{ id: p.id, lease: l1, settlement: outcome.dead(p.id) }]);
        await store.enqueued([{ ...p, executions: 0, runAt: new Date(Date.now() - 1000).toISOString() }]);
        const revived = await statusOf(store, p.id);
        expect(revived).toMatchObject({ state: "queued", executions: 0 });
        expect(revived.error).toBeUndefined();
        expect(revived.finishedAt).toBeUndefined();
        expect(revived.startedAt).toBeUndefined();
        expect(revived.progress).toBeUndefined();
        // The old delivery's lease went with the old status.
        expect(await staleOf(store, [p.id, l1])).toEqual([]);
      });
    });
  });
}
