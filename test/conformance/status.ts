/** Conformance: status — states through the lifecycle, progress, results, unknown ids. */
import { describe, expect, it } from "vitest";

import { getStatus } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { GatedJob, openGate, ProgressJob, RecordJob, withFixture, type AdapterWiring } from "./harness.js";

export function statusSuite(wiring: AdapterWiring): void {
  describe(`${wiring.name}: status`, () => {
    it("follows a job from queued to running to succeeded with timestamps", async () => {
      await withFixture(wiring, async (fixture) => {
        const { jobId } = await GatedJob.performLater("status-gate");
        const queued = await GatedJob.status(jobId);
        expect(queued).toMatchObject({ id: jobId, job: "GatedJob", state: "queued", executions: 0, startedAt: null, result: undefined });
        await fixture.startWorker();
        const running = await waitFor(async () => {
          const status = await getStatus(jobId);
          return status?.state === "running" && status;
        }, { message: "job running" });
        expect(running.startedAt).toBeInstanceOf(Date);
        expect(running.executions).toBe(1);
        openGate("status-gate").release();
        const done = await waitFor(async () => {
          const status = await getStatus(jobId);
          return status?.state === "succeeded" && status;
        }, { message: "job succeeded" });
        expect(done.result).toBe("status-gate");
        expect(done.finishedAt!.getTime()).toBeGreaterThanOrEqual(done.startedAt!.getTime());
        expect(done.error).toBeNull();
      });
    });

    it("stores the last progress and a result with superjson types", async () => {
      await withFixture(wiring, async (fixture) => {
        const progress: number[] = [];
        fixture.runtime.events.on("job:progress", (event) => progress.push(event.fraction));
        await fixture.startWorker();
        const { jobId } = await ProgressJob.performLater(4);
        const done = await waitFor(async () => {
          const status = await ProgressJob.status(jobId);
          return status?.state === "succeeded" && status;
        }, { message: "progress job done" });
        expect(progress).toEqual([0.25, 0.5, 0.75, 1]);
        expect(done.progress).toEqual({ fraction: 1, message: "step 4/4" });
        expect(done.result).toEqual({ steps: 4, at: new Date(0), big: 10n });
      });
    });

    it("an unknown id reads as null", async () => {
      await withFixture(wiring, async (fixture) => {
        expect(await RecordJob.status("00000000-0000-4000-8000-000000000000")).toBeNull();
      });
    });

    it("queue counts reflect queued, scheduled and running jobs", async () => {
      await withFixture(wiring, async (fixture) => {
        await RecordJob.performLater("a");
        await RecordJob.performLater("b");
        const delays = fixture.adapter.capabilities.maxDelayMs >= 3_600_000;
        if (delays) await RecordJob.set({ wait: "1h" }).performLater("c");
        await RecordJob.set({ queue: "other" }).performLater("d");
        const queues = await fixture.client.listQueues();
        expect(queues.find((queue) => queue.name === "default")).toMatchObject({ queued: 2, scheduled: delays ? 1 : 0, running: 0 });
        expect(queues.find((queue) => queue.name === "other")).toMatchObject({ queued: 1 });
      });
    });
  });
}
