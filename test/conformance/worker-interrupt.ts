/**
 * Conformance: an operator's interrupt of a running job (`jobs().interrupt`, capability
 * `control`), what a deploy's SIGTERM does for one job. A resumable job stops at its next
 * checkpoint and resumes at its cursor, its completed steps not run again; a plain job whose
 * signal fires is handed back and runs again from the start; one that ignores its signal
 * and finishes keeps its outcome; an abort after an interrupt discards the job. The
 * adapter-level marks are in `control.ts`.
 */
import { describe, expect, it } from "vitest";

import { Job, jobs, JobAbortedError, JobInterruptRequestedError, type Step } from "@errand/core";
import type { Adapter, HeartbeatOptions, HeartbeatResult } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { ALL_JOBS, GatedJob, journal, openGate, withFixture, type AdapterWiring } from "./harness.js";

/** What the resumable job's steps did, in order, across its runs. */
const log: string[] = [];
/** The codes of the reasons the plain jobs' signals fired with, by label. */
const reasons = new Map<string, string[]>();

/** How long a job waits for the operator before it gives up (the test then fails on its outcome). */
const PATIENCE_MS = 20_000;

/** Four rows between two steps; its first run checkpoints at row 2 until a checkpoint stops it. */
export class InterruptRowsJob extends Job<[]> {
  static override jobName = "InterruptRowsJob";
  static override resumeWait = 0;
  async perform() {
    await this.step("prepare", () => {
      log.push("prepare");
    });
    await this.step("rows", async (step) => {
      for (let row = step.cursor ?? 0; row < 4; row++) {
        log.push(`row ${row}`);
        if (row === 2 && this.executions === 1) await checkpointUntilStopped(step);
        step.advance();
      }
    });
    await this.step("finish", () => {
      log.push("finish");
    });
  }
}

/** A job that checkpoints often, as a long loop over records would: each checkpoint may stop it. */
async function checkpointUntilStopped(step: Step<number>): Promise<void> {
  openGate("rows").started = true;
  const giveUp = Date.now() + PATIENCE_MS;
  while (Date.now() < giveUp) {
    step.checkpoint();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("no checkpoint stopped the job");
}

/**
 * Records each start; its first run waits until its signal fires, remembers the reason, and
 * (unless `holdOn`) throws it at once; with `holdOn` it waits for its gate first.
 */
export class HandBackJob extends Job<[label: string, holdOn: boolean]> {
  static override jobName = "HandBackJob";
  static override retry = [[Error, { attempts: 3, wait: 10, jitter: 0 }]] as const;
  async perform(label: string, holdOn: boolean) {
    journal.performed.push({ label, jobId: this.jobId, executions: this.executions });
    if (journal.performed.filter((entry) => entry.label === label).length > 1) return "ran again";
    const gate = openGate(label);
    gate.started = true;
    await new Promise<void>((resolve) => {
      this.signal.addEventListener("abort", () => {
        (reasons.get(label) ?? reasons.set(label, []).get(label)!).push((this.signal.reason as { code?: string }).code ?? "");
        gate.aborted = true;
        resolve();
      });
    });
    if (holdOn) await gate.opened;
    throw this.signal.reason;
  }
}

const CONFIG = { jobs: [...ALL_JOBS, InterruptRowsJob, HandBackJob] };

/** Counts the beats of the adapter's workers and the ids they were told to abort. */
function watchBeats(adapter: Adapter): { beats: number; aborted: Set<string> } {
  const seen = { beats: 0, aborted: new Set<string>() };
  const beat = adapter.heartbeat!.bind(adapter);
  (adapter as { heartbeat: (options: HeartbeatOptions) => Promise<HeartbeatResult> }).heartbeat = async (options) => {
    const result = await beat(options);
    for (const id of result.abort) seen.aborted.add(id);
    seen.beats++;
    return result;
  };
  return seen;
}

export function workerInterruptSuite(wiring: AdapterWiring): void {
  describe.runIf(wiring.capabilities.control)(`${wiring.name}: interrupting running jobs (capability control)`, () => {
    it("a resumable job stops at its next checkpoint and resumes at its cursor, completed steps not run again", async () => {
      log.length = 0;
      await withFixture(wiring, CONFIG, async (fixture) => {
        await fixture.startWorker();
        const { jobId } = await InterruptRowsJob.performLater();
        await waitFor(() => openGate("rows").started, { message: "the job to reach row 2" });
        expect(await jobs().interrupt([jobId])).toEqual([jobId]);
        await waitFor(async () => (await InterruptRowsJob.status(jobId))?.state === "succeeded", { timeoutMs: 15_000, message: "the job to resume and succeed" });
        // Stopped before row 2's advance: the cursor says rows 0 and 1 are done.
        expect(log).toEqual(["prepare", "row 0", "row 1", "row 2", "row 2", "row 3", "finish"]);
        const view = await jobs().get(jobId);
        expect(view?.executions).toBe(2);
        // An interruption is no failed attempt.
        expect(view?.attempts).toEqual([]);
      });
    });

    it("a plain job whose signal fires is handed back, not failed, and runs again from the start", async () => {
      reasons.clear();
      await withFixture(wiring, CONFIG, async (fixture) => {
        await fixture.startWorker();
        const { jobId } = await HandBackJob.performLater("plain", false);
        await waitFor(() => openGate("plain").started, { message: "the job to start" });
        expect(await jobs().interrupt([jobId])).toEqual([jobId]);
        await waitFor(async () => (await HandBackJob.status(jobId))?.state === "succeeded", { timeoutMs: 15_000, message: "the job to run again and succeed" });
        expect(reasons.get("plain")).toEqual([new JobInterruptRequestedError().code]);
        expect(journal.performed.filter((entry) => entry.label === "plain")).toHaveLength(2);
        // Handed back: neither a failed attempt nor a retry of one.
        expect((await jobs().get(jobId))?.attempts).toEqual([]);
        expect((await HandBackJob.status(jobId))?.result).toBe("ran again");
      });
    });

    it("a job that ignores its signal and finishes keeps its outcome", async () => {
      await withFixture(wiring, CONFIG, async (fixture) => {
        await fixture.startWorker();
        const { jobId } = await GatedJob.performLater("stubborn");
        await waitFor(() => openGate("stubborn").started, { message: "the job to start" });
        expect(await jobs().interrupt([jobId])).toEqual([jobId]);
        await waitFor(() => openGate("stubborn").aborted, { message: "the job's signal to fire" });
        openGate("stubborn").release();
        await waitFor(async () => (await GatedJob.status(jobId))?.state === "succeeded", { message: "the job to succeed" });
        expect(journal.performed.filter((entry) => entry.label === "stubborn")).toHaveLength(1);
      });
    });

    it("an abort after an interrupt wins: the job ends failed with JobAbortedError, not run again", async () => {
      reasons.clear();
      await withFixture(wiring, CONFIG, async (fixture) => {
        const beats = watchBeats(fixture.adapter);
        await fixture.startWorker();
        const { jobId } = await HandBackJob.performLater("overruled", true);
        await waitFor(() => openGate("overruled").started, { message: "the job to start" });
        await jobs().interrupt([jobId]);
        await waitFor(() => openGate("overruled").aborted, { message: "the interrupt to fire the job's signal" });
        expect(await jobs().abort([jobId])).toEqual([jobId]);
        await waitFor(() => beats.aborted.has(jobId), { message: "a beat to carry the abort" });
        // Beats go one at a time: once the next has been answered, the worker has read the abort.
        const seen = beats.beats;
        await waitFor(() => beats.beats > seen, { message: "the next beat" });
        openGate("overruled").release();
        await waitFor(async () => (await HandBackJob.status(jobId))?.state === "failed", { message: "the job to end failed" });
        expect((await HandBackJob.status(jobId))?.error?.code).toBe(new JobAbortedError().code);
        expect(reasons.get("overruled")).toEqual([new JobInterruptRequestedError().code]);
        expect(journal.performed.filter((entry) => entry.label === "overruled")).toHaveLength(1);
      });
    });
  });
}
