/** Conformance: payloads that cannot run go to the dead set with the reason, and the worker goes on. */
import { describe, expect, it } from "vitest";

import { batch, deadSet, Job, registerModel, type Instrumentation } from "@errand/core";
import type { JobPayload } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { ALL_JOBS, BrokenJob, journal, payload, RecordJob, withFixture, type AdapterWiring, type Fixture } from "./harness.js";

async function store(fixture: Fixture, wiring: AdapterWiring, body: string | object) {
  if (typeof body === "string") {
    await wiring.insertRaw!(fixture.adapter, body, "default");
  } else {
    await fixture.adapter.enqueue({ jobs: [body as JobPayload] });
  }
}

async function expectDead(fixture: Fixture, wiring: AdapterWiring, body: string | object, reason: RegExp) {
  await store(fixture, wiring, body);
  const { jobId } = await RecordJob.performLater("still-works");
  await fixture.startWorker();
  await waitFor(() => journal.performed.some((entry) => entry.jobId === jobId), { message: "the next job to run" });
  const dead = await waitFor(async () => {
    const list = await deadSet().list();
    return list.length > 0 && list;
  }, { message: "the bad payload in the dead set" });
  expect(dead).toHaveLength(1);
  expect(dead[0]!.error.message).toMatch(reason);
  return dead[0]!;
}

/** What an instrumentation writes into `headers` (a W3C trace context and a non-ASCII value), and every run must see. */
const HEADERS = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", tracestate: "errand=1", "x-note": "ünïcödé ✓" };

/** Writes {@link HEADERS} into each payload at enqueue; records the headers each run reads. */
function carrierInstrumentation(seen: { attempt: number; headers: unknown }[]): Instrumentation {
  return {
    name: "conformance-carrier",
    enqueue({ payloads }) {
      for (const job of payloads) job.headers = { ...HEADERS };
    },
    perform({ payload: job, attempt }) {
      seen.push({ attempt, headers: job.headers });
    },
  };
}

/** Where each run of {@link StubbornJob} began. */
const stubbornRuns: string[] = [];

/** Fails after each advance until its cursor reaches 2; resumed once at most (each failure after progress is a resumption). */
class StubbornJob extends Job<[]> {
  static override jobName = "StubbornJob";
  static override resumeWait = 0;
  static override maxResumptions = 1;
  async perform() {
    await this.step("a", () => {
      stubbornRuns.push("a");
    });
    await this.step("b", (step) => {
      stubbornRuns.push(`b@${step.cursor ?? 0}`);
      if ((step.cursor ?? 0) >= 2) return;
      step.advance();
      throw new Error(`failed at ${step.cursor}`);
    });
  }
}

/** A model whose records are always gone; registered once per process (a file may run the suite twice). */
class Ghost {
  constructor(readonly id: number) {}
}
let ghostRegistered = false;
function registerGhost(): void {
  if (ghostRegistered) return;
  registerModel(Ghost, { find: () => null });
  ghostRegistered = true;
}

export function wireFormatSuite(wiring: AdapterWiring): void {
  describe(`${wiring.name}: wire format`, () => {
    it("stores payloads as readable JSON of wire format v1", async () => {
      await withFixture(wiring, async (fixture) => {
        const priority = fixture.adapter.capabilities.priorities ? { priority: 3 } : {};
        const { jobId } = await RecordJob.set({ ...priority, queue: "wire" }).performLater("plain");
        const [reservation] = await fixture.adapter.reserve({ queues: ["wire"], max: 1, leaseMs: 30_000, waitMs: 0, workerId: "w" });
        const stored = JSON.parse(reservation!.body);
        expect(stored).toEqual({
          v: 1,
          job: "RecordJob",
          id: jobId,
          queue: "wire",
          priority: fixture.adapter.capabilities.priorities ? 3 : 0,
          args: { json: ["plain"] },
          executions: 0,
          enqueuedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          runAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        });
      });
    });

    it("headers survive enqueue → reserve → retry → dead → dead-job retry unchanged", async () => {
      const seen: { attempt: number; headers: unknown }[] = [];
      await withFixture(wiring, { retry: { attempts: 2, wait: 10, jitter: 0 }, instrumentation: [carrierInstrumentation(seen)] }, async (fixture) => {
        const { jobId } = await BrokenJob.performLater();
        await fixture.startWorker();
        const dead = await waitFor(async () => (await deadSet().list()).find((job) => job.id === jobId), { message: "the job to die after two runs" });
        expect(JSON.parse(dead.body).headers).toEqual(HEADERS);
        expect(await deadSet().retry([jobId])).toBe(1);
        await waitFor(() => seen.length >= 3, { message: "the revived job to run" });
        expect(seen.slice(0, 3)).toEqual([
          { attempt: 1, headers: HEADERS },
          { attempt: 2, headers: HEADERS },
          { attempt: 1, headers: HEADERS },
        ]);
      });
    });

    it.runIf(wiring.capabilities.batches)("[batches] a job's batch survives enqueue → reserve → retry → dead → dead-job retry unchanged", async () => {
      const runs: { attempt: number; batch: unknown }[] = [];
      const watcher: Instrumentation = { name: "conformance-batch", perform: ({ payload: job, attempt }) => void runs.push({ attempt, batch: job.batch }) };
      await withFixture(wiring, { retry: { attempts: 2, wait: 10, jitter: 0 }, instrumentation: [watcher] }, async (fixture) => {
        const job = new BrokenJob();
        const id = await batch([job]);
        await fixture.startWorker();
        const dead = await waitFor(async () => (await deadSet().list()).find((entry) => entry.id === job.jobId), { message: "the batch job to die after two runs" });
        expect(JSON.parse(dead.body).batch).toEqual({ id });
        expect(await deadSet().retry([job.jobId])).toBe(1);
        await waitFor(() => runs.length >= 3, { message: "the revived batch job to run" });
        expect(runs.slice(0, 3)).toEqual([
          { attempt: 1, batch: { id } },
          { attempt: 2, batch: { id } },
          { attempt: 1, batch: { id } },
        ]);
      });
    });

    it("a resumable job's continuation survives retry → dead → dead-job retry (resumptions counted afresh)", async () => {
      stubbornRuns.length = 0;
      await withFixture(wiring, { jobs: [...ALL_JOBS, StubbornJob] }, async (fixture) => {
        const { jobId } = await StubbornJob.performLater();
        await fixture.startWorker();
        const dead = await waitFor(async () => (await deadSet().list()).find((job) => job.id === jobId), { message: "the job to die at its resumption limit" });
        expect(dead.error.code).toBe("ERR_MAX_RESUMPTIONS");
        expect(JSON.parse(dead.body).continuation).toEqual({ completed: ["a"], current: { step: "b", cursor: { json: 2 } }, resumptions: 2 });
        expect(await deadSet().retry([jobId])).toBe(1);
        await waitFor(async () => (await StubbornJob.status(jobId))?.state === "succeeded", { message: "the revived job to finish" });
        expect(stubbornRuns).toEqual(["a", "b@0", "b@1", "b@2"]);
      });
    });

    it("without an instrumentation a payload has no headers", async () => {
      await withFixture(wiring, async (fixture) => {
        await RecordJob.set({ queue: "bare" }).performLater("bare");
        const [reservation] = await fixture.adapter.reserve({ queues: ["bare"], max: 1, leaseMs: 30_000, waitMs: 0, workerId: "w" });
        expect(JSON.parse(reservation!.body)).not.toHaveProperty("headers");
      });
    });

    it("headers that are not an object of strings go to the dead set naming the field", async () => {
      await withFixture(wiring, async (fixture) => {
        await expectDead(fixture, wiring, payload({ headers: { traceparent: 7 } as never }), /"headers\.traceparent" must be a string/);
      });
    });

    it("an unknown job class goes to the dead set naming it; nothing is imported by name", async () => {
      await withFixture(wiring, async (fixture) => {
        const dead = await expectDead(fixture, wiring, payload({ job: "../../etc/passwd" }), /unknown job class "\.\.\/\.\.\/etc\/passwd"/);
        expect(dead.error.code).toBe("ERR_UNKNOWN_JOB");
      });
    });

    it("a payload of another version goes to the dead set with the reason; retrying it leaves it dead, unchanged", async () => {
      await withFixture(wiring, async (fixture) => {
        const dead = await expectDead(fixture, wiring, { ...payload(), v: 2 }, /malformed payload: unsupported version 2/);
        // Core decides revival: a body that is not wire format v1 would only die again.
        expect(await deadSet().retryAll()).toBe(0);
        expect(await deadSet().retry([dead.id])).toBe(0);
        const still = await deadSet().list();
        expect(still.map((job) => [job.id, job.body])).toEqual([[dead.id, dead.body]]);
      });
    });

    it("a payload missing fields goes to the dead set naming the field", async () => {
      await withFixture(wiring, async (fixture) => {
        const { args: _args, ...broken } = payload();
        await expectDead(fixture, wiring, broken, /"args" must be superjson output/);
      });
    });

    it.runIf(wiring.insertRaw !== undefined)("[raw bodies] a body that is not JSON goes to the dead set, kept as it was", async () => {
      await withFixture(wiring, async (fixture) => {
        const dead = await expectDead(fixture, wiring, "{not json", /malformed payload: not JSON/);
        expect(dead.body).toBe("{not json");
      });
    });

    it("a model record gone by perform time fails with DeserializationError under the job's rules", async () => {
      await withFixture(wiring, { retry: { attempts: 1 } }, async (fixture) => {
        registerGhost();
        const { jobId } = await RecordJob.performLater(new Ghost(7) as never);
        await fixture.startWorker();
        const dead = await waitFor(async () => {
          const list = await deadSet().list();
          return list.length > 0 && list;
        }, { message: "the job to die" });
        expect(dead[0]!.id).toBe(jobId);
        expect(dead[0]!.error.name).toBe("DeserializationError");
        expect(dead[0]!.error.message).toBe("Ghost 7 (gid://errand/Ghost/7) no longer exists");
      });
    });
  });
}
