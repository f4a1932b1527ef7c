/**
 * Conformance: what core's workers do with the operator's part of the contract (capability
 * `control`, `listJobs`): a paused queue stops running workers and a resumed one starts them
 * again; an aborted job's signal fires and it ends failed; a worker's beat shows it, its
 * running jobs and its throughput; a retried job's payload keeps its earlier runs. The
 * adapter-level cases are in `control.ts`, `control-workers.ts` and `list-jobs.ts`.
 */
import { describe, expect, it } from "vitest";

import { Job, jobs, JobAbortedError, listWorkers, queues } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { ALL_JOBS, BrokenJob, journal, openGate, RecordJob, withFixture, type AdapterWiring, type Fixture } from "./harness.js";

/** Waits at its gate until released, or rejects with the signal's reason once aborted. */
export class AbortableJob extends Job<[gate: string]> {
  static override jobName = "AbortableJob";
  static override retry = [[Error, { attempts: 3, wait: 10, jitter: 0 }]] as const;
  async perform(gate: string) {
    const entry = openGate(gate);
    entry.started = true;
    await new Promise<void>((resolve, reject) => {
      this.signal.addEventListener("abort", () => {
        entry.aborted = true;
        reject(this.signal.reason);
      });
      void entry.opened.then(resolve);
    });
    return gate;
  }
}

const config = { jobs: [...ALL_JOBS, AbortableJob] };

/** Resolves with the paused set the worker's beat reads next that satisfies `test`. */
function pausedSeen(fixture: Fixture, test: (queues: string[]) => boolean): Promise<string[]> {
  return new Promise((resolve) => {
    const off = fixture.runtime.events.on("worker:paused", ({ queues }) => {
      if (!test(queues)) return;
      off();
      resolve(queues);
    });
  });
}

export function workerControlSuite(wiring: AdapterWiring): void {
  const control = wiring.capabilities.control;
  describe(`${wiring.name}: workers under an operator's control`, () => {
    it.skipIf(!control)("a paused queue stops a running worker from taking its jobs; resumed, they run (capability control)", async () => {
      await withFixture(wiring, config, async (fixture) => {
        await fixture.startWorker({ queues: ["alpha", "beta"] });
        const seen = pausedSeen(fixture, (names) => names.includes("alpha"));
        await queues().pause("alpha");
        await seen;
        const held = await RecordJob.set({ queue: "alpha" }).performLater("held");
        await RecordJob.set({ queue: "beta" }).performLater("runs");
        await waitFor(() => journal.performed.some((entry) => entry.label === "runs"), { message: "the beta job to run" });
        // Enqueued before the beta job, on a queue the worker takes first: only the pause kept it.
        expect(journal.performed.map((entry) => entry.label)).not.toContain("held");
        expect((await RecordJob.status(held.jobId))?.state).toBe("queued");
        const resumed = pausedSeen(fixture, (names) => !names.includes("alpha"));
        await queues().resume("alpha");
        await resumed;
        await waitFor(() => journal.performed.some((entry) => entry.label === "held"), { message: "the held job to run once resumed" });
      });
    });

    it.skipIf(!control)("a reserve already on its way when a pause lands hands back what it took from the paused queue (capability control)", async () => {
      await withFixture(wiring, config, async (fixture) => {
        // The worker's first reserve is held before it reaches the backend, so it asks for
        // "alpha" as it stood before the pause and takes the job after the pause is seen.
        const adapter = fixture.adapter;
        const reserve = adapter.reserve.bind(adapter);
        const gate = openGate("reserve-in-flight");
        let held: Promise<unknown> | undefined;
        adapter.reserve = (options) => {
          if (held) return reserve(options);
          const reply = gate.opened.then(() => reserve(options));
          held = reply;
          return reply;
        };
        const worker = await fixture.startWorker({ queues: ["alpha"] });
        await waitFor(() => held !== undefined, { message: "the worker's first reserve" });
        const { jobId } = await RecordJob.set({ queue: "alpha" }).performLater("late");
        const seen = pausedSeen(fixture, (names) => names.includes("alpha"));
        await queues().pause("alpha");
        await seen;
        gate.release();
        expect(await held).toHaveLength(1);
        await worker.drained();
        expect(journal.performed).toEqual([]);
        expect((await RecordJob.status(jobId))?.state).toBe("queued");
        // Handed back, not left to its lease: resumed, it runs at once.
        await queues().resume("alpha");
        await waitFor(() => journal.performed.length === 1, { message: "the job to run once resumed" });
      });
    });

    it.skipIf(!control || !wiring.peer)("a pause made by another process reaches the worker (capability control)", async () => {
      await withFixture(wiring, config, async (fixture) => {
        await fixture.startWorker({ queues: ["alpha"] });
        const peer = await wiring.peer!(fixture.adapter);
        try {
          const seen = pausedSeen(fixture, (names) => names.includes("alpha"));
          await peer.pauseQueues!({ queues: ["alpha"], paused: true });
          expect(await seen).toContain("alpha");
          await peer.pauseQueues!({ queues: ["alpha"], paused: false });
        } finally {
          await peer.close();
        }
      });
    });

    it.skipIf(!control)("a worker paused on every queue counts as drained, and runs again when resumed (capability control)", async () => {
      await withFixture(wiring, config, async (fixture) => {
        const worker = await fixture.startWorker({ queues: ["alpha"] });
        const seen = pausedSeen(fixture, (names) => names.includes("alpha"));
        await queues().pause("alpha");
        await seen;
        await RecordJob.set({ queue: "alpha" }).performLater("later");
        await worker.drained();
        expect(journal.performed).toEqual([]);
        await queues().resume("alpha");
        await waitFor(() => journal.performed.length === 1, { message: "the job to run once resumed" });
      });
    });

    it.skipIf(!control)("abort fires the running job's signal with JobAbortedError; it ends failed, not retried (capability control)", async () => {
      await withFixture(wiring, config, async (fixture) => {
        await fixture.startWorker();
        const { jobId } = await AbortableJob.performLater("stop-me");
        await waitFor(() => openGate("stop-me").started, { message: "the job to start" });
        expect(await jobs().abort([jobId])).toEqual([jobId]);
        await waitFor(() => openGate("stop-me").aborted, { message: "the job's signal to abort" });
        await waitFor(async () => (await AbortableJob.status(jobId))?.state === "failed", { message: "the job to end failed" });
        const status = await AbortableJob.status(jobId);
        expect(status?.error?.code).toBe(new JobAbortedError().code);
        expect(status?.executions).toBe(1);
      });
    });

    it.skipIf(!control)("a beating worker is listed with the job it runs, and removed when it stops (capability control)", async () => {
      await withFixture(wiring, config, async (fixture) => {
        const worker = await fixture.startWorker({ queues: ["alpha"], concurrency: 2 });
        const { jobId } = await AbortableJob.set({ queue: "alpha" }).performLater("listed");
        await waitFor(async () => (await listWorkers()).some((record) => record.running.some((job) => job.id === jobId)), {
          message: "the worker to be listed with its running job",
        });
        const record = (await listWorkers()).find((candidate) => candidate.id === worker.id)!;
        expect(record).toMatchObject({ pid: process.pid, queues: "alpha", concurrency: 2, adapter: fixture.client.name, gone: false });
        expect(record.running[0]).toMatchObject({ id: jobId, job: "AbortableJob", queue: "alpha" });
        expect(record.lastBeatAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
        openGate("listed").release();
        await worker.stop();
        expect((await listWorkers()).map((candidate) => candidate.id)).not.toContain(worker.id);
      });
    });

    it.skipIf(!control)("runs finished by workers show in their queue's throughput (capability control)", async () => {
      await withFixture(wiring, config, async (fixture) => {
        const worker = await fixture.startWorker({ queues: ["alpha"] });
        for (const label of ["one", "two", "three"]) await RecordJob.set({ queue: "alpha" }).performLater(label);
        await waitFor(() => journal.performed.length === 3, { message: "three jobs to run" });
        await worker.stop(); // its last beat carries what the periodic ones had not
        const [alpha] = (await queues().list({ throughputMinutes: 5 })).filter((queue) => queue.name === "alpha");
        const succeeded = alpha?.throughput?.succeeded ?? [];
        expect(succeeded).toHaveLength(5);
        expect(succeeded.reduce((sum, count) => sum + count, 0)).toBe(3);
      });
    });

    it.skipIf(!wiring.capabilities.listJobs)("a dead job's payload keeps each run: start, end and error (capability listJobs)", async () => {
      await withFixture(wiring, { ...config, retry: { attempts: 2, wait: 10, jitter: 0 } }, async (fixture) => {
        await fixture.startWorker();
        const { jobId } = await BrokenJob.performLater();
        await waitFor(async () => (await BrokenJob.status(jobId))?.state === "dead", { message: "the job to die" });
        const view = await jobs().get(jobId);
        expect(view?.state).toBe("dead");
        expect(view?.attempts.map((attempt) => attempt.error.message)).toEqual(["broken on run 1", "broken on run 2"]);
        for (const attempt of view!.attempts) {
          expect(Date.parse(attempt.finishedAt)).toBeGreaterThanOrEqual(Date.parse(attempt.startedAt));
        }
      });
    });
  });
}
