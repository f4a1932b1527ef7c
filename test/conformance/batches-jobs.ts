/**
 * Conformance: batches through the user API, with a real worker (`batch()`, `this.batch`,
 * `batch.status`), and the refusals every adapter gives (an adapter without
 * `capabilities.batches` refuses `batch()`; bad options and callback classes are refused
 * before anything is stored). The adapter-level cases are in batches.ts.
 */
import { describe, expect, it } from "vitest";

import { batch, ConfigError, Job, UnsupportedError } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { ALL_JOBS, BrokenJob, DiscardedJob, journal, RecordJob, reserve, withFixture, type AdapterWiring } from "./harness.js";

/** What each batch job and callback saw of its batch. */
const seen: { label: string; jobId: string; batchId: string | undefined; callback: string | undefined }[] = [];
/** Errors `this.batch.add` threw in a callback. */
const addErrors: unknown[] = [];

/** A batch member: records its batch id. */
class MemberJob extends Job<[label: string]> {
  static override jobName = "BatchMemberJob";
  perform(label: string) {
    seen.push({ label, jobId: this.jobId, batchId: this.batch?.id, callback: this.batch?.callback });
  }
}

/** Adds `children` MemberJobs to its batch, then records itself. */
class FanOutJob extends Job<[children: number]> {
  static override jobName = "BatchFanOutJob";
  async perform(children: number) {
    const ids = await this.batch!.add(Array.from({ length: children }, (_, index) => new MemberJob(`child ${index}`)));
    seen.push({ label: `parent of ${ids.length}`, jobId: this.jobId, batchId: this.batch?.id, callback: undefined });
  }
}

/** A callback: records its label and batch; tries to add a job to its (finished) batch. */
class CallbackJob extends Job<[label: string]> {
  static override jobName = "BatchCallbackJob";
  async perform(label: string) {
    seen.push({ label, jobId: this.jobId, batchId: this.batch?.id, callback: this.batch?.callback });
    try {
      await this.batch!.add([new MemberJob("late")]);
    } catch (error) {
      addErrors.push(error);
    }
  }
}

/** A class with flow control, refused as a callback. */
class UniqueCallbackJob extends Job<[label: string]> {
  static override jobName = "BatchUniqueCallbackJob";
  static override unique = { key: (label: string) => label, while: "queued" as const };
  perform(_label: string) {}
}

const JOBS = { jobs: [...ALL_JOBS, MemberJob, FanOutJob, CallbackJob, UniqueCallbackJob] };

function reset(): void {
  seen.length = 0;
  addErrors.length = 0;
}

const callbacksSeen = (batchId: string) => seen.filter((entry) => entry.batchId === batchId && entry.callback !== undefined);

export function batchesJobsSuite(wiring: AdapterWiring): void {
  describe(`${wiring.name}: batches (jobs)`, () => {
    it.runIf(!wiring.capabilities.batches)("[no batches] batch() is refused with UnsupportedError naming the capability; nothing is stored", async () => {
      await withFixture(wiring, JOBS, async ({ adapter }) => {
        const refused = batch([new MemberJob("a")], { onComplete: [CallbackJob, ["done"]] });
        await expect(refused).rejects.toThrow(UnsupportedError);
        await expect(refused).rejects.toThrow(/capability batches/);
        expect(await reserve(adapter)).toEqual([]);
      });
    });

    it("unknown options, callbacks that are not [JobClass, args] and callback classes with flow control are refused before anything is stored", async () => {
      reset();
      await withFixture(wiring, JOBS, async () => {
        await expect(batch([new MemberJob("a")], { onSucess: [CallbackJob, ["x"]] } as never)).rejects.toThrow(ConfigError);
        await expect(batch([new MemberJob("a")], { onSuccess: [CallbackJob, "x"] } as never)).rejects.toThrow(/onSuccess.*\[JobClass/);
        await expect(batch([MemberJob] as never)).rejects.toThrow(/jobs\[0\] is not a job instance/);
        if (wiring.capabilities.batches) {
          await expect(batch([new MemberJob("a")], { onComplete: [UniqueCallbackJob, ["x"]] })).rejects.toThrow(/onComplete: UniqueCallbackJob has flow control/);
        }
        expect(seen).toEqual([]);
      });
    });
  });

  describe.runIf(wiring.capabilities.batches)(`${wiring.name}: batches [batches] (jobs, with a worker)`, () => {
    it("batch() of N jobs: each sees this.batch.id; onSuccess and onComplete run once, onFailure never", async () => {
      reset();
      await withFixture(wiring, JOBS, async (fixture) => {
        const jobs = Array.from({ length: 12 }, (_, index) => new MemberJob(`row ${index}`));
        const id = await batch(jobs, {
          onSuccess: [CallbackJob, ["success"]],
          onComplete: [CallbackJob, ["complete"]],
          onFailure: [CallbackJob, ["failure"]],
          description: "twelve rows",
        });
        expect(jobs.every((job) => job.jobId.length > 0)).toBe(true);
        await fixture.startWorker();
        const record = await waitFor(async () => {
          const found = await batch.status(id);
          return found?.state === "finished" && Object.keys(found.enqueuedCallbacks).length === 2 && found;
        }, { message: "the batch to finish" });
        await waitFor(() => callbacksSeen(id).length >= 2, { message: "both callbacks to run" });
        expect(seen.filter((entry) => entry.callback === undefined).map((entry) => entry.batchId)).toEqual(Array(12).fill(id));
        expect(record).toMatchObject({ id, description: "twelve rows", total: 12, pending: 0, succeeded: 12, discarded: 0, dead: 0 });
        // Run once each: the worker stays up a little more so a second copy would show.
        const callbackIds = await waitFor(async () => {
          const ran = callbacksSeen(id);
          return ran.length === 2 && ran;
        }, { message: "exactly two callbacks" });
        expect(callbackIds.map((entry) => [entry.label, entry.callback]).sort()).toEqual([
          ["complete", "complete"],
          ["success", "success"],
        ]);
        expect(callbackIds.map((entry) => entry.jobId).sort()).toEqual([record.enqueuedCallbacks.complete, record.enqueuedCallbacks.success].sort());
        // A job enqueued after the callbacks were stored: by the time it ran, a second copy would have too.
        const { jobId } = await RecordJob.performLater("after the callbacks");
        await waitFor(() => journal.performed.some((entry) => entry.jobId === jobId), { message: "the job enqueued after the callbacks" });
        expect(callbacksSeen(id)).toHaveLength(2);
        expect(addErrors.map((error) => (error as Error).message)).toEqual([
          expect.stringMatching(/callback of batch .* which has finished/),
          expect.stringMatching(/callback of batch .* which has finished/),
        ]);
      });
    });

    it("this.batch.add fans out; the callback runs after the added jobs (fan-in)", async () => {
      reset();
      await withFixture(wiring, JOBS, async (fixture) => {
        const id = await batch([new FanOutJob(3), new FanOutJob(2)], { onComplete: [CallbackJob, ["fan-in"]] });
        await fixture.startWorker();
        await waitFor(() => callbacksSeen(id).length === 1, { message: "the fan-in callback to run" });
        const labels = seen.map((entry) => entry.label);
        expect(labels.filter((label) => label.startsWith("child"))).toHaveLength(5);
        expect(labels.indexOf("fan-in"), "the callback ran after every added job").toBe(labels.length - 1);
        expect(seen.every((entry) => entry.batchId === id)).toBe(true);
        expect(await batch.status(id)).toMatchObject({ state: "finished", total: 7, succeeded: 7, pending: 0 });
      });
    });

    it("batch.status counts succeeded, discarded, dead and failed runs; a failing batch runs onComplete and onFailure, not onSuccess", async () => {
      reset();
      await withFixture(wiring, { ...JOBS, retry: { attempts: 2, wait: 10, jitter: 0 } }, async (fixture) => {
        const id = await batch([new MemberJob("a"), new MemberJob("b"), new DiscardedJob(), new BrokenJob()], {
          onSuccess: [CallbackJob, ["success"]],
          onComplete: [CallbackJob, ["complete"]],
          onFailure: [CallbackJob, ["failure"]],
        });
        expect(await batch.status(id)).toMatchObject({ id, total: 4, callbacks: { success: true, complete: true, failure: true } });
        await fixture.startWorker();
        await waitFor(() => callbacksSeen(id).length >= 2, { message: "the callbacks to run" });
        const record = await batch.status(id);
        expect(record).toMatchObject({ state: "finished", total: 4, pending: 0, succeeded: 2, discarded: 1, dead: 1, failed: 1 });
        expect(Object.keys(record!.enqueuedCallbacks).sort()).toEqual(["complete", "failure"]);
        expect(callbacksSeen(id).map((entry) => entry.label).sort()).toEqual(["complete", "failure"]);
        expect(await batch.status("00000000-0000-7000-8000-000000000000")).toBeNull();
      });
    });

    it("an empty batch finishes at once: its callbacks run", async () => {
      reset();
      await withFixture(wiring, JOBS, async (fixture) => {
        const id = await batch([], { onSuccess: [CallbackJob, ["empty"]] });
        expect(await batch.status(id)).toMatchObject({ state: "finished", total: 0 });
        await fixture.startWorker();
        await waitFor(() => callbacksSeen(id).length === 1, { message: "the empty batch's callback to run" });
        expect(callbacksSeen(id)[0]).toMatchObject({ label: "empty", callback: "success" });
      });
    });
  });
}
