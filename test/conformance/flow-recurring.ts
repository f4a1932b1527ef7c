/**
 * Conformance: recurring ticks (`capabilities.recurring`). Every worker's scheduler enqueues
 * each tick; the backend stores one per task and tick, in one atomic step with recording the
 * task's last tick — which is what makes a tick fire once however many workers run.
 */
import { describe, expect, it } from "vitest";

import { flowPayload } from "./flow-jobs.js";
import { reserve, withFixture, type AdapterWiring } from "./harness.js";

const tick = (iso: string, task = "poll") => ({ recurring: { task, tick: iso } });

export function flowRecurringSuite(wiring: AdapterWiring): void {
  describe.runIf(wiring.capabilities.recurring)(`${wiring.name}: recurring ticks [capability recurring]`, () => {
    it("one job per task and tick: the same tick again, or an older one, is a duplicate of the last", async () => {
      await withFixture(wiring, async (fixture) => {
        const { adapter } = fixture;
        const first = flowPayload(tick("2026-12-03T10:00:00.000Z"));
        const [stored] = await adapter.enqueue({ jobs: [first] });
        expect(stored).toMatchObject({ jobId: first.id });
        expect(stored!.duplicate).toBeFalsy();
        const [again] = await adapter.enqueue({ jobs: [flowPayload(tick("2026-12-03T10:00:00.000Z"))] });
        expect(again).toMatchObject({ jobId: first.id, providerJobId: stored!.providerJobId, duplicate: true });
        const next = flowPayload(tick("2026-12-03T10:15:00.000Z"));
        const [later] = await adapter.enqueue({ jobs: [next] });
        expect(later).toMatchObject({ jobId: next.id });
        expect(later!.duplicate).toBeFalsy();
        const [older] = await adapter.enqueue({ jobs: [flowPayload(tick("2026-12-03T10:00:00.000Z"))] });
        expect(older).toMatchObject({ jobId: next.id, duplicate: true });
        // Another task's ticks are its own.
        const [otherTask] = await adapter.enqueue({ jobs: [flowPayload(tick("2026-12-03T10:00:00.000Z", "cleanup"))] });
        expect(otherTask!.duplicate).toBeFalsy();
        expect(await reserve(adapter, { max: 10 })).toHaveLength(3);
      });
    });

    it("recurringState reports each task's last tick and its job, null for a task never fired", async () => {
      await withFixture(wiring, async (fixture) => {
        const { adapter } = fixture;
        const last = flowPayload(tick("2026-12-03T11:00:00.000Z"));
        await adapter.enqueue({ jobs: [flowPayload(tick("2026-12-03T10:45:00.000Z")), last] });
        const states = await adapter.recurringState!({ tasks: ["poll", "never"] });
        expect(states).toEqual([{ task: "poll", lastTick: new Date("2026-12-03T11:00:00.000Z"), jobId: last.id }, null]);
      });
    });

    it("a batch holding one tick twice stores it once", async () => {
      await withFixture(wiring, async (fixture) => {
        const [a, b] = [flowPayload(tick("2026-12-03T12:00:00.000Z")), flowPayload(tick("2026-12-03T12:00:00.000Z"))];
        const results = await fixture.adapter.enqueue({ jobs: [a, b] });
        expect(results.map((result) => result.jobId)).toEqual([a.id, a.id]);
        expect(results[1]!.duplicate).toBe(true);
      });
    });

    it("20 concurrent enqueues of one tick (and a peer's, when there is one) store exactly one job", async () => {
      await withFixture(wiring, async (fixture) => {
        const peer = wiring.peer ? await wiring.peer(fixture.adapter) : undefined;
        try {
          const adapters = peer ? [fixture.adapter, peer] : [fixture.adapter];
          const results = (
            await Promise.all(
              Array.from({ length: 20 }, (_, i) => adapters[i % adapters.length]!.enqueue({ jobs: [flowPayload(tick("2026-12-03T13:00:00.000Z"))] })),
            )
          ).flat();
          expect(results.filter((result) => !result.duplicate)).toHaveLength(1);
          expect(new Set(results.map((result) => result.jobId)).size).toBe(1);
          expect(await reserve(fixture.adapter, { max: 50 })).toHaveLength(1);
        } finally {
          await peer?.close();
        }
      });
    });
  });
}
