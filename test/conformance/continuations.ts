/**
 * Conformance: resumable jobs (`this.step`, issue 17). A worker stopped while a job is
 * inside a step interrupts it at its next checkpoint; the job is re-enqueued with its
 * progress and resumed by another worker at the cursor, its completed steps not run again;
 * the progress shows in its status. The resumption limit ends it dead naming the setting;
 * an error after progress resumes from the last checkpoint.
 */
import { describe, expect, it } from "vitest";

import { deadSet, Job } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { ALL_JOBS, openGate, withFixture, type AdapterWiring, type Fixture } from "./harness.js";

/** What the steps did, in order, across every run. */
const log: string[] = [];

/** Six rows in a step between two others; holds at gate `<gate>` in its first run at row 2, and `<gate>-again` in its second at row 4. */
export class RowsJob extends Job<[gate: string]> {
  static override jobName = "RowsJob";
  static override resumeWait = 0;
  async perform(gate: string) {
    await this.step("prepare", () => {
      log.push("prepare");
    });
    await this.step("rows", async (step) => {
      for (let row = step.cursor ?? 0; row < 6; row++) {
        log.push(`row ${row}`);
        if (row === 2 && this.executions === 1) await held(gate);
        if (row === 4 && this.executions === 2) await held(`${gate}-again`);
        step.advance();
      }
    });
    await this.step("finish", () => {
      log.push("finish");
    });
  }
}

/** A {@link RowsJob} that may never be resumed. */
export class OnceRowsJob extends RowsJob {
  static override jobName = "OnceRowsJob";
  static override maxResumptions = 0;
}

/** Fails after its first advance in its first run only. */
export class FailingRowsJob extends Job<[]> {
  static override jobName = "FailingRowsJob";
  static override resumeWait = 0;
  async perform() {
    await this.step("rows", (step) => {
      for (let row = step.cursor ?? 0; row < 3; row++) {
        log.push(`row ${row}`);
        step.advance();
        if (row === 0 && this.executions === 1) throw new Error("the API went away");
      }
    });
  }
}

async function held(gate: string): Promise<void> {
  const entry = openGate(gate);
  entry.started = true;
  await entry.opened;
}

const CONFIG = { jobs: [...ALL_JOBS, RowsJob, OnceRowsJob, FailingRowsJob] };

/** Stops `worker` while its job waits at `gate`, then lets the job reach its next checkpoint. */
async function stopAtGate(fixture: Fixture, gate: string): Promise<void> {
  const worker = await fixture.startWorker();
  await waitFor(() => openGate(gate).started, { message: `the job to reach gate ${gate}` });
  const stopped = worker.stop({ graceMs: 10_000 });
  await waitFor(() => worker.state !== "running", { message: "the worker to begin stopping" });
  openGate(gate).release();
  await stopped;
}

export function continuationsSuite(wiring: AdapterWiring): void {
  describe(`${wiring.name}: continuations`, () => {
    it("a worker stopped mid-step hands the job back at its cursor; another resumes it there, completed steps not run again", async () => {
      log.length = 0;
      await withFixture(wiring, CONFIG, async (fixture) => {
        const { jobId } = await RowsJob.performLater("rows");
        await stopAtGate(fixture, "rows");
        expect(log).toEqual(["prepare", "row 0", "row 1", "row 2"]);
        await fixture.startWorker();
        await waitFor(() => openGate("rows-again").started, { message: "the resumed run to reach row 4" });
        // The resumed step reports where it started, in the job's status.
        await waitFor(async () => (await RowsJob.status(jobId))?.progress?.message === 'step "rows" at cursor 3', { message: "the cursor in the status" });
        openGate("rows-again").release();
        await waitFor(async () => (await RowsJob.status(jobId))?.state === "succeeded", { message: "the job to succeed" });
        expect(log).toEqual(["prepare", "row 0", "row 1", "row 2", "row 3", "row 4", "row 5", "finish"]);
      });
    });

    it("an interruption past maxResumptions ends the job dead, naming the setting, its progress kept", async () => {
      log.length = 0;
      await withFixture(wiring, CONFIG, async (fixture) => {
        const { jobId } = await OnceRowsJob.performLater("once");
        await stopAtGate(fixture, "once");
        const dead = await waitFor(async () => (await deadSet().list()).find((job) => job.id === jobId), { message: "the job in the dead set" });
        expect(dead.error).toMatchObject({ code: "ERR_MAX_RESUMPTIONS", message: "OnceRowsJob stopped again after 0 resumptions, its maxResumptions" });
        expect(JSON.parse(dead.body).continuation).toEqual({ completed: ["prepare"], current: { step: "rows", cursor: { json: 3 } }, resumptions: 1 });
      });
    });

    it("an error after progress resumes from the last checkpoint", async () => {
      log.length = 0;
      await withFixture(wiring, CONFIG, async (fixture) => {
        const { jobId } = await FailingRowsJob.performLater();
        await fixture.startWorker();
        await waitFor(async () => (await FailingRowsJob.status(jobId))?.state === "succeeded", { message: "the job to succeed" });
        expect(log).toEqual(["row 0", "row 1", "row 2"]);
      });
    });
  });
}
