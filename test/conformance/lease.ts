/** Conformance: leases — expiry hands a job out again (at-least-once), renewal keeps it, lost leases are reported. */
import { describe, expect, it } from "vitest";

import { waitFor } from "@errand/core/testing";

import { bodies, GatedJob, journal, openGate, payload, reserve, withFixture, type AdapterWiring } from "./harness.js";

export function leaseSuite(wiring: AdapterWiring): void {
  describe(`${wiring.name}: lease`, () => {
    it("a job whose lease expires unsettled is handed out again", async () => {
      await withFixture(wiring, async (fixture) => {
        const job = payload();
        await fixture.adapter.enqueue({ jobs: [job] });
        const [first] = await reserve(fixture.adapter, { leaseMs: 200 });
        expect(first).toBeDefined();
        expect(await reserve(fixture.adapter)).toEqual([]);
        const again = await waitFor(async () => {
          const taken = await reserve(fixture.adapter, { leaseMs: 30_000 });
          return taken.length > 0 && taken;
        }, { timeoutMs: 10_000, message: "the expired job to come back" });
        expect(bodies(again).map((p) => p.id)).toEqual([job.id]);
        // The first holder's lease is gone: its renewals and settlements must not touch the new holder's.
        expect(await fixture.adapter.extendLease({ reservations: [first!], leaseMs: 30_000 })).toEqual([first!.providerJobId]);
        await fixture.adapter.settle({ settlements: [{ reservation: first!, outcome: "succeeded" }] });
        expect(await fixture.adapter.extendLease({ reservations: [again[0]!], leaseMs: 30_000 })).toEqual([]);
        const [status] = await fixture.client.getStatus([job.id]);
        expect(status?.state).toBe("running");
      });
    });

    it("extending a lease keeps the job from being handed out again", async () => {
      await withFixture(wiring, async (fixture) => {
        await fixture.adapter.enqueue({ jobs: [payload()] });
        const [held] = await reserve(fixture.adapter, { leaseMs: 300 });
        const until = Date.now() + 900;
        while (Date.now() < until) {
          expect(await fixture.adapter.extendLease({ reservations: [held!], leaseMs: 300 })).toEqual([]);
          expect(await reserve(fixture.adapter)).toEqual([]);
          await new Promise((resolve) => setTimeout(resolve, 100)); // pacing the renewals, not synchronising
        }
      });
    });

    it("extendLease reports jobs that were already settled", async () => {
      await withFixture(wiring, async (fixture) => {
        await fixture.adapter.enqueue({ jobs: [payload(), payload()] });
        const [a, b] = await reserve(fixture.adapter, { max: 2 });
        await fixture.adapter.settle({ settlements: [{ reservation: a!, outcome: "succeeded" }] });
        expect(await fixture.adapter.extendLease({ reservations: [a!, b!], leaseMs: 30_000 })).toEqual([a!.providerJobId]);
      });
    });

    it("a worker renews the lease of a job running longer than the lease; no other worker takes it", async () => {
      await withFixture(wiring, async (fixture) => {
        let renewals = 0;
        fixture.runtime.events.on("adapter:call", (event) => {
          if (event.operation === "extendLease" && !event.error) renewals++;
        });
        const { jobId } = await GatedJob.performLater("long");
        await fixture.startWorker({ lease: "1s" });
        await waitFor(() => journal.gates.get("long")?.started, { message: "the long job running" });
        await fixture.startWorker({ lease: "1s" });
        // Four renewals at a third of the lease each: the job has outlived its first lease.
        await waitFor(() => renewals >= 4, { timeoutMs: 10_000, message: "four lease renewals" });
        expect((await fixture.client.getStatus([jobId]))[0]?.executions).toBe(1);
        openGate("long").release();
        await waitFor(() => journal.performed.length === 1, { message: "the long job done" });
        expect(journal.performed).toEqual([{ label: "long", jobId, executions: 1 }]);
      });
    });

    it("a worker that dies mid-job: another worker runs the job after the lease expires", async () => {
      await withFixture(wiring, async (fixture) => {
        const { jobId } = await (await import("./harness.js")).RecordJob.performLater("survivor");
        // A "dead" worker: it reserves and never settles nor renews.
        expect(await reserve(fixture.adapter, { leaseMs: 1000 })).toHaveLength(1);
        await fixture.startWorker({ lease: "1s" });
        const status = await waitFor(async () => {
          const [record] = await fixture.client.getStatus([jobId]);
          return record?.state === "succeeded" && record;
        }, { timeoutMs: 10_000, message: "the abandoned job to be run by the live worker" });
        expect(status.executions).toBeGreaterThanOrEqual(1);
      });
    });
  });
}
