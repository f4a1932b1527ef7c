/**
 * Conformance: watching a job's status (`watchStatus`, `SomeJob.watch`) — the current
 * status first, every change after it, the end after a terminal state; the watcher freed
 * when the loop ends, breaks or is aborted. Through the adapter's status feed when it has
 * one (capabilities.statusFeed), by polling when not.
 */
import { describe, expect, it } from "vitest";

import { Job, JobNotFoundError, statusWatchers, watchStatus, type JobStatus } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { ALL_JOBS, GatedJob, openGate, RecordJob, withFixture, type AdapterWiring } from "./harness.js";

/** Reports progress k/steps, then waits at gate `<gate>:<k>`, for each step. */
export class SteppedJob extends Job<[gate: string, steps: number]> {
  static override jobName = "SteppedJob";
  async perform(gate: string, steps: number) {
    for (let step = 1; step <= steps; step++) {
      this.progress(step / steps, `step ${step}`);
      await openGate(`${gate}:${step}`).opened;
    }
    return { steps, at: new Date(0) };
  }
}

/** Reports progress `count` times as fast as it can. */
export class ChattyJob extends Job<[count: number]> {
  static override jobName = "ChattyJob";
  perform(count: number) {
    for (let i = 1; i <= count; i++) this.progress(i / count, `${i}`);
    return count;
  }
}

const CONFIG = { jobs: [...ALL_JOBS, SteppedJob, ChattyJob] };

/** Collects a watch into `seen`, resolving when it ends. */
function collect(iterable: AsyncIterable<JobStatus>, seen: JobStatus[]): Promise<void> {
  return (async () => {
    for await (const status of iterable) seen.push(status);
  })();
}

export function watchSuite(wiring: AdapterWiring): void {
  const via = wiring.capabilities.statusFeed ? "through the status feed" : "by polling (no status feed)";
  describe(`${wiring.name}: watchStatus ${via}`, () => {
    it("yields the current status first, then each change, and ends after succeeded", async () => {
      await withFixture(wiring, CONFIG, async (fixture) => {
        const { jobId } = await GatedJob.performLater("watch-1");
        const seen: JobStatus[] = [];
        const done = collect(watchStatus(jobId), seen);
        await waitFor(() => seen.length === 1, { message: "first status" });
        expect(seen[0]).toMatchObject({ id: jobId, state: "queued", job: "GatedJob" });
        await fixture.startWorker();
        await waitFor(() => seen.some((s) => s.state === "running"), { message: "running seen" });
        openGate("watch-1").release();
        await done;
        expect(seen.map((s) => s.state).filter((s, i, all) => s !== all[i - 1])).toEqual(["queued", "running", "succeeded"]);
        expect(seen.at(-1)).toMatchObject({ state: "succeeded", result: "watch-1" });
        expect(await statusWatchers()).toMatchObject({ jobs: 0, watchers: 0 });
      });
    });

    it("delivers each progress step and the result with its types (SomeJob.watch)", async () => {
      await withFixture(wiring, CONFIG, async (fixture) => {
        await fixture.startWorker();
        const { jobId } = await SteppedJob.performLater("steps", 3);
        const seen: JobStatus[] = [];
        const done = collect(SteppedJob.watch(jobId), seen);
        for (let step = 1; step <= 3; step++) {
          await waitFor(() => seen.some((s) => s.progress?.fraction === step / 3), { message: `progress ${step}/3 seen` });
          openGate(`steps:${step}`).release();
        }
        await done;
        const fractions = seen.map((s) => s.progress?.fraction).filter((f) => f !== undefined);
        expect([...new Set(fractions)]).toEqual([1 / 3, 2 / 3, 1]);
        expect(seen.at(-1)).toMatchObject({ state: "succeeded", progress: { fraction: 1, message: "step 3" } });
        expect(seen.at(-1)!.result).toEqual({ steps: 3, at: new Date(0) });
      });
    });

    it("a job finished before the watch yields its final status once, then ends", async () => {
      await withFixture(wiring, CONFIG, async (fixture) => {
        await fixture.startWorker();
        const { jobId } = await RecordJob.performLater("early");
        await waitFor(async () => (await RecordJob.status(jobId))?.state === "succeeded", { message: "job done" });
        const seen: JobStatus[] = [];
        await collect(watchStatus(jobId), seen);
        expect(seen).toHaveLength(1);
        expect(seen[0]).toMatchObject({ state: "succeeded", result: { label: "early" } });
      });
    });

    it("coalesces a burst of progress: states in order, the last progress seen", async () => {
      await withFixture(wiring, CONFIG, async (fixture) => {
        const { jobId } = await ChattyJob.performLater(500);
        const seen: JobStatus[] = [];
        const done = collect(watchStatus(jobId), seen);
        await waitFor(() => seen.length === 1, { message: "first status" });
        await fixture.startWorker();
        await done;
        const states = seen.map((s) => s.state).filter((s, i, all) => s !== all[i - 1]);
        expect(states[0]).toBe("queued");
        expect(states.at(-1)).toBe("succeeded");
        expect(seen.at(-1)).toMatchObject({ progress: { fraction: 1, message: "500" }, result: 500 });
        const fractions = seen.flatMap((s) => (s.progress ? [s.progress.fraction] : []));
        expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
      });
    });

    it("an unknown job id throws JobNotFoundError", async () => {
      await withFixture(wiring, CONFIG, async () => {
        const watch = watchStatus("00000000-0000-4000-8000-000000000000");
        await expect(watch.next()).rejects.toBeInstanceOf(JobNotFoundError);
        expect(await statusWatchers()).toMatchObject({ jobs: 0, watchers: 0 });
      });
    });

    it("many watchers share one hub; break and abort free theirs", async () => {
      await withFixture(wiring, CONFIG, async () => {
        const a = await GatedJob.performLater("watch-a");
        const b = await GatedJob.performLater("watch-b");
        const controller = new AbortController();
        const first = watchStatus(a.jobId);
        const second = watchStatus(a.jobId, { signal: controller.signal });
        const third = watchStatus(b.jobId);
        await Promise.all([first.next(), second.next(), third.next()]);
        expect(await statusWatchers()).toMatchObject({ jobs: 2, watchers: 3 });
        await first.return!();
        expect(await statusWatchers()).toMatchObject({ jobs: 2, watchers: 2 });
        const pending = second.next();
        controller.abort();
        await expect(pending).rejects.toMatchObject({ name: "AbortError" });
        await third.return!();
        expect(await statusWatchers()).toMatchObject({ jobs: 0, watchers: 0 });
      });
    });

    it("a watcher after the subscription lingered out and closed gets every change again", async () => {
      await withFixture(wiring, CONFIG, async (fixture) => {
        await fixture.startWorker();
        const first = await RecordJob.performLater("before");
        await collect(watchStatus(first.jobId), []);
        await waitFor(async () => !(await statusWatchers()).subscribed, { timeoutMs: 10_000, message: "subscription closed after its linger" });
        const { jobId } = await GatedJob.performLater("after-linger");
        const seen: JobStatus[] = [];
        const done = collect(watchStatus(jobId), seen);
        await waitFor(() => seen.some((s) => s.state === "running"), { message: "running seen on the new subscription" });
        expect(await statusWatchers()).toMatchObject({ jobs: 1, watchers: 1, subscribed: true });
        openGate("after-linger").release();
        await done;
        expect(seen.at(-1)).toMatchObject({ state: "succeeded", result: "after-linger" });
      });
    });

    it("refuses an unknown option and a missing id", async () => {
      await withFixture(wiring, CONFIG, async () => {
        expect(() => watchStatus("x", { signl: undefined } as never)).toThrow(/unknown option "signl".*"signal"/);
        expect(() => watchStatus("" as string)).toThrow(/jobId must be a non-empty string/);
        expect(() => GatedJob.watch("x", { adapter: "other" } as never)).toThrow(/unknown option "adapter" in the watch\(\) options of GatedJob/);
      });
    });
  });
}
