/** Conformance: graceful shutdown — running jobs finish, buffered ones are handed back, nothing is lost. */
import { describe, expect, it } from "vitest";

import { waitFor } from "@errand/core/testing";

import { GatedJob, journal, openGate, RecordJob, reserve, withFixture, type AdapterWiring } from "./harness.js";

export function shutdownSuite(wiring: AdapterWiring): void {
  describe(`${wiring.name}: shutdown`, () => {
    it("stop lets running jobs finish and hands buffered jobs back; another worker runs them", async () => {
      await withFixture(wiring, async (fixture) => {
        const gated = await Promise.all(["g1", "g2"].map((gate) => GatedJob.performLater(gate)));
        const worker = await fixture.startWorker({ concurrency: 2, prefetch: 10 });
        await waitFor(() => journal.gates.get("g1")?.started && journal.gates.get("g2")?.started, { message: "both gated jobs running" });
        const queued = await Promise.all(Array.from({ length: 5 }, (_, index) => RecordJob.performLater(`after-${index}`)));
        await waitFor(() => worker.bufferedCount === 5, { message: "five jobs buffered" });
        const stopped = worker.stop({ graceMs: 10_000 });
        await waitFor(() => worker.state === "stopping", { message: "worker stopping" });
        openGate("g1").release();
        openGate("g2").release();
        await stopped;
        expect(journal.performed.map((entry) => entry.label).sort()).toEqual(["g1", "g2"]);
        for (const { jobId } of gated) expect((await GatedJob.status(jobId))?.state).toBe("succeeded");
        for (const { jobId } of queued) expect((await RecordJob.status(jobId))?.state).toBe("queued");
        expect(journal.gates.get("g1")!.aborted).toBe(false);

        await fixture.startWorker();
        await waitFor(() => journal.performed.length === 7, { message: "the handed-back jobs to run" });
      });
    });

    it("jobs still running after the grace period are aborted and handed back, then run again", async () => {
      await withFixture(wiring, async (fixture) => {
        const { jobId } = await GatedJob.performLater("stuck");
        const worker = await fixture.startWorker();
        await waitFor(() => journal.gates.get("stuck")?.started, { message: "stuck job running" });
        const stopped = new Promise<number>((resolve) => fixture.runtime.events.once("worker:stop", (event) => resolve(event.released)));
        await worker.stop({ graceMs: 100 });
        expect(await stopped).toBe(1);
        expect(journal.gates.get("stuck")!.aborted).toBe(true);
        expect((await GatedJob.status(jobId))?.state).toBe("queued");
        // The handed-back job is available at once, not after a lease expiry.
        expect(await reserve(fixture.adapter, { max: 5 })).toHaveLength(1);
      });
    });

    it("drained() resolves once ready work is done and written", async () => {
      await withFixture(wiring, async (fixture) => {
        const worker = await fixture.startWorker({ concurrency: 3 });
        const ids = await Promise.all(Array.from({ length: 20 }, (_, index) => RecordJob.performLater(`d${index}`)));
        await worker.drained();
        expect(journal.performed).toHaveLength(20);
        for (const { jobId } of ids) expect((await RecordJob.status(jobId))?.state).toBe("succeeded");
      });
    });
  });
}
