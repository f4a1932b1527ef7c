/** Conformance: the dead set — list, retry (fresh attempts), purge. */
import { describe, expect, it } from "vitest";

import { deadSet } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { BrokenJob, journal, RecordJob, reserve, withFixture, type AdapterWiring } from "./harness.js";

export function deadSuite(wiring: AdapterWiring): void {
  describe(`${wiring.name}: dead set`, () => {
    it("lists dead jobs newest first with their error, filters by queue, pages", async () => {
      await withFixture(wiring, async (fixture) => {
        const ids: string[] = [];
        for (const queue of ["a", "b", "a"]) {
          const { jobId } = await RecordJob.set({ queue }).performLater(queue);
          ids.push(jobId);
          const [reservation] = await reserve(fixture.adapter, { queues: [queue], max: 1 });
          await fixture.adapter.settle({
            settlements: [{ reservation: reservation!, outcome: "dead", error: { name: "Error", message: `died ${queue}` }, payload: JSON.parse(reservation!.body) }],
          });
        }
        const all = await deadSet().list();
        expect(all.map((job) => job.id)).toEqual([...ids].reverse());
        expect(all[0]!.error.message).toBe("died a");
        expect(all[0]!.diedAt).toBeInstanceOf(Date);
        expect(JSON.parse(all[0]!.body).id).toBe(ids[2]);
        expect((await deadSet().list({ queue: "a" })).map((job) => job.id)).toEqual([ids[2], ids[0]]);
        expect((await deadSet().list({ limit: 1, offset: 1 })).map((job) => job.id)).toEqual([ids[1]]);
        const queues = await fixture.client.listQueues();
        expect(queues.find((queue) => queue.name === "a")?.dead).toBe(2);
      });
    });

    it("retry moves a dead job back with fresh attempts and it runs again", async () => {
      await withFixture(wiring, { retry: { attempts: 1 } }, async (fixture) => {
        await fixture.startWorker();
        const { jobId } = await BrokenJob.performLater();
        await waitFor(async () => (await deadSet().list()).some((job) => job.id === jobId), { message: "job to die" });
        expect(journal.attempts.get(jobId)).toBe(1);
        expect(await deadSet().retry([jobId])).toBe(1);
        await waitFor(async () => (await deadSet().list()).some((job) => job.id === jobId) && journal.attempts.get(jobId) === 1, {
          message: "job to die again after its retry",
        });
        // executions were reset: the retried run was number 1 again, not 2.
        expect(journal.attempts.get(jobId)).toBe(1);
      });
    });

    it("status and dead set agree: a job reading dead is listed, a retried one is neither", async () => {
      await withFixture(wiring, { retry: { attempts: 1 } }, async (fixture) => {
        const worker = await fixture.startWorker();
        const { jobId } = await BrokenJob.performLater();
        await waitFor(async () => (await BrokenJob.status(jobId))?.state === "dead", { message: "status to read dead" });
        // No wait here: the dead set must already hold what the status says is dead.
        expect((await deadSet().list()).map((job) => job.id)).toContain(jobId);
        await worker.stop();
        expect(await deadSet().retry([jobId])).toBe(1);
        expect((await BrokenJob.status(jobId))?.state).toBe("queued");
        expect((await deadSet().list()).map((job) => job.id)).not.toContain(jobId);
      });
    });

    it("retryAll and purge empty the dead set; purge deletes for good", async () => {
      await withFixture(wiring, async (fixture) => {
        for (const label of ["x", "y", "z"]) {
          await RecordJob.performLater(label);
          const [reservation] = await reserve(fixture.adapter, { max: 1 });
          await fixture.adapter.settle({ settlements: [{ reservation: reservation!, outcome: "dead", error: { name: "E", message: label } }] });
        }
        const [first, ...others] = await deadSet().list();
        expect(await deadSet().purge([first!.id])).toBe(1);
        expect(await deadSet().retryAll()).toBe(2);
        expect(await deadSet().list()).toEqual([]);
        const back = await reserve(fixture.adapter, { max: 10 });
        expect(back.map((r) => JSON.parse(r.body).id).sort()).toEqual(others.map((job) => job.id).sort());
        expect(await deadSet().purgeAll()).toBe(0);
      });
    });
  });
}
