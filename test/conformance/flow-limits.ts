/**
 * Conformance: per-key concurrency limits (`capabilities.concurrencyLimits`) and rate
 * limits (`capabilities.rateLimits`), enforced at reserve. Limits are checked against the
 * jobs themselves: each counts how many of its key run at once and when it started.
 */
import { afterEach, describe, expect, it } from "vitest";

import { waitFor } from "@errand/core/testing";

import { BothLimitsJob, FLOW_CONFIG, flowJournal, flowPayload, LimitedJob, RateJob, SerialGatedJob } from "./flow-jobs.js";
import { journal, openGate, reserve, withFixture, type AdapterWiring } from "./harness.js";

/** The least time between a start and the `limit`-th start after it: a window of `per` holds at most `limit` starts iff this is ≥ per. */
function tightestWindow(starts: readonly number[], limit: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let least = Infinity;
  for (let i = 0; i + limit < sorted.length; i++) least = Math.min(least, sorted[i + limit]! - sorted[i]!);
  return least;
}

export function flowLimitsSuite(wiring: AdapterWiring): void {
  const caps = wiring.capabilities;
  afterEach(() => flowJournal.reset());

  describe.runIf(caps.concurrencyLimits)(`${wiring.name}: concurrency limits [capability concurrencyLimits]`, () => {
    it("12 jobs of one key, limit 2, 8 worker slots: never more than 2 run at once, and all run once", async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        for (let i = 0; i < 12; i++) await LimitedJob.performLater("acct-1", 40);
        await fixture.startWorker({ concurrency: 8 });
        await waitFor(() => flowJournal.starts.get("acct-1")?.length === 12 && flowJournal.running.get("acct-1") === 0, {
          timeoutMs: 20_000,
          message: "the 12 jobs to run",
        });
        expect(flowJournal.most.get("acct-1")).toBe(2);
      });
    });

    it("a waiting job shows as queued, counts as queued, and another key is not held up", async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        const holder = await SerialGatedJob.performLater("a", "serial-a1");
        const waiting = await SerialGatedJob.performLater("a", "serial-a2");
        const other = await SerialGatedJob.performLater("b", "serial-b1");
        await fixture.startWorker({ concurrency: 4 });
        await waitFor(() => journal.gates.get("serial-a1")?.started && journal.gates.get("serial-b1")?.started, {
          message: "the first job of each key to start",
        });
        expect((await SerialGatedJob.status(waiting.jobId))?.state).toBe("queued");
        expect((await SerialGatedJob.status(waiting.jobId))?.executions).toBe(0);
        const counts = (await fixture.adapter.listQueues({})).find((queue) => queue.name === "default");
        expect(counts).toMatchObject({ queued: 1, running: 2 });
        openGate("serial-a2").release();
        openGate("serial-a1").release();
        await waitFor(async () => (await SerialGatedJob.status(waiting.jobId))?.state === "succeeded", { message: "the waiting job to run after the holder" });
        expect((await SerialGatedJob.status(holder.jobId))?.state).toBe("succeeded");
        expect(flowJournal.most.get("a")).toBe(1);
        openGate("serial-b1").release();
        await waitFor(async () => (await SerialGatedJob.status(other.jobId))?.state === "succeeded", { message: "the other key's job" });
      });
    });

    it("a slot whose holder's lease ran out (its worker died) frees, and the waiting job runs", async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        const concurrency = { key: "lease-lost", limit: 1 };
        const [held, waiting] = [flowPayload({ concurrency }), flowPayload({ concurrency })];
        await fixture.adapter.enqueue({ jobs: [held, waiting] });
        // A worker that leases the first and dies: it never settles nor renews.
        const first = await reserve(fixture.adapter, { max: 10, leaseMs: 300 });
        expect(first.map((r) => JSON.parse(r.body).id)).toEqual([held.id]);
        const next = await waitFor(
          async () => {
            const taken = await reserve(fixture.adapter, { max: 10, leaseMs: 30_000 });
            return taken.length > 0 ? taken : undefined;
          },
          { timeoutMs: 15_000, intervalMs: 50, message: "a job of the key to be leased again after the lease ran out" },
        );
        // One slot: exactly one of the two, whichever the backend hands out first.
        expect(next).toHaveLength(1);
        expect(await reserve(fixture.adapter, { max: 10 })).toEqual([]);
        await fixture.adapter.settle({ settlements: [{ reservation: next[0]!, outcome: "succeeded" }] });
        const last = await waitFor(
          async () => {
            const taken = await reserve(fixture.adapter, { max: 10 });
            return taken.length > 0 ? taken : undefined;
          },
          { timeoutMs: 15_000, intervalMs: 50, message: "the other job to be leased once the slot freed" },
        );
        expect([...next, ...last].map((r) => JSON.parse(r.body).id).sort()).toEqual([held.id, waiting.id].sort());
      });
    });

    it("a renewed lease keeps its slot", async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        const concurrency = { key: "renewed", limit: 1 };
        await fixture.adapter.enqueue({ jobs: [flowPayload({ concurrency }), flowPayload({ concurrency })] });
        // A lease of 1 s (the shortest a worker takes) renewed every third of it. A lease of
        // 400 ms renewed every 150 ms left a round 250 ms for its calls (on SQS with a shared
        // store: two to the emulator, three to the store), and the slot's deadline runs from
        // the moment the reserve takes it, before the reserve's own last calls. On a loaded
        // machine (load 12 on 2 cores, 2026-12-04) a renewal came late and was reported lost.
        const [holder] = await reserve(fixture.adapter, { max: 10, leaseMs: 1_000 });
        const reservedAt = Date.now();
        for (let i = 0; i < 4; i++) {
          expect(await fixture.adapter.extendLease({ reservations: [holder!], leaseMs: 1_000 })).toEqual([]);
          expect(await reserve(fixture.adapter, { max: 10, leaseMs: 1_000 })).toEqual([]);
          await new Promise((resolve) => setTimeout(resolve, 333)); // a renewal interval, not a synchronisation
        }
        // The slot, taken before reservedAt, outlived the lease it was taken with by its renewals.
        expect(Date.now() - reservedAt).toBeGreaterThan(1_000);
      });
    });

    // The rule for a late renewal (a GC pause, a stalled event loop, a network blip): once its
    // lease deadline has passed, a holder of a concurrency slot is no longer counted, so another
    // job may have its slot; its renewal is refused (reported lost, and core aborts the job, as
    // for any lost lease) rather than bringing the key back above its limit. A plain job's
    // renewal after its deadline still succeeds while no reserve took the job back.
    it("a renewal after the lease ran out is refused, and the key never has more than its limit", async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        // Keys are global: the second job goes to another queue, so the reserve that hands it
        // out is not one that returns the held job (a backend's per-queue upkeep may do that).
        // 1 s: SQS's shortest visibility timeout, the lease every backend honours at least.
        const concurrency = { key: "late-renewal", limit: 1 };
        const [held, other] = [flowPayload({ concurrency }), flowPayload({ concurrency }, { queue: "late-other" })];
        await fixture.adapter.enqueue({ jobs: [held] });
        const [late] = await reserve(fixture.adapter, { max: 10, leaseMs: 1000 });
        // Read after the reserve answers: the lease began before, so it ends before this + 1 s
        // (read before the reserve, a reserve of over 200 ms under load outlived the margin).
        const leasedAt = Date.now();
        expect(JSON.parse(late!.body).id).toBe(held.id);
        await waitFor(() => Date.now() > leasedAt + 1000 + 200, { timeoutMs: 5_000, intervalMs: 20, message: "the lease deadline to pass" });
        await fixture.adapter.enqueue({ jobs: [other] });
        // The condition: another reserve handed out a job of the key.
        const next = await waitFor(
          async () => {
            const taken = await reserve(fixture.adapter, { queues: ["late-other"], max: 10, leaseMs: 30_000 });
            return taken.length > 0 ? taken : undefined;
          },
          { timeoutMs: 15_000, intervalMs: 50, message: "the other job to be leased after the held one's lease ran out" },
        );
        expect(next.map((r) => JSON.parse(r.body).id)).toEqual([other.id]);
        expect(await fixture.adapter.extendLease({ reservations: [late!], leaseMs: 30_000 })).toEqual([late!.providerJobId]);
        // The new holder keeps the only slot: nothing of the key is handed out, from either queue.
        const both = { queues: ["default", "late-other"], max: 10, leaseMs: 30_000 };
        expect(await reserve(fixture.adapter, both)).toEqual([]);
        expect(await fixture.adapter.extendLease({ reservations: next, leaseMs: 30_000 })).toEqual([]);
        expect(await reserve(fixture.adapter, both)).toEqual([]);
      });
    });

    it("a renewal after the lease ran out is refused even before a reserve noticed; the job runs again", async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        const concurrency = { key: "late-unnoticed", limit: 1 };
        const job = flowPayload({ concurrency });
        await fixture.adapter.enqueue({ jobs: [job] });
        const [late] = await reserve(fixture.adapter, { max: 10, leaseMs: 1000 });
        const leasedAt = Date.now(); // after the reserve answers, as above
        expect(late).toBeDefined();
        // The condition is the deadline itself (with 200 ms for the clocks of the process and the backend).
        await waitFor(() => Date.now() > leasedAt + 1000 + 200, { timeoutMs: 5_000, intervalMs: 20, message: "the lease deadline to pass" });
        expect(await fixture.adapter.extendLease({ reservations: [late!], leaseMs: 30_000 })).toEqual([late!.providerJobId]);
        const again = await waitFor(
          async () => {
            const taken = await reserve(fixture.adapter, { max: 10, leaseMs: 30_000 });
            return taken.length > 0 ? taken : undefined;
          },
          { timeoutMs: 15_000, intervalMs: 50, message: "the job to be leased again" },
        );
        expect(again.map((r) => JSON.parse(r.body).id)).toEqual([job.id]);
      });
    });

    it.runIf(wiring.peer !== undefined)("two processes reserving at once never lease more than the limit", async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        const peer = await wiring.peer!(fixture.adapter);
        try {
          const concurrency = { key: "two-processes", limit: 3 };
          await fixture.adapter.enqueue({ jobs: Array.from({ length: 20 }, () => flowPayload({ concurrency })) });
          const rounds = await Promise.all([
            ...Array.from({ length: 4 }, () => reserve(fixture.adapter, { max: 5 })),
            ...Array.from({ length: 4 }, () => reserve(peer, { max: 5 })),
          ]);
          expect(rounds.flat()).toHaveLength(3);
        } finally {
          await peer.close();
        }
      });
    });
  });

  describe.runIf(caps.rateLimits)(`${wiring.name}: rate limits [capability rateLimits]`, () => {
    it("9 jobs, 3 starts per 1,500 ms: every one runs once, no window of 1,500 ms holds 4 starts", async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        const enqueued = [];
        for (let i = 0; i < 9; i++) enqueued.push(await RateJob.performLater("api"));
        await fixture.startWorker({ concurrency: 9 });
        await waitFor(() => flowJournal.starts.get("api")?.length === 9, { timeoutMs: 20_000, message: "the 9 jobs to run" });
        // Starts are read in the job, after the backend let it start: the reading lags by the
        // commit, the response and the event loop, 129 ms seen on a busy machine. 300 ms of
        // slack still fails a limiter that lets 4 through at once or counts a shorter window.
        expect(tightestWindow(flowJournal.starts.get("api")!, 3)).toBeGreaterThanOrEqual(1_500 - 300);
        for (const { jobId } of enqueued) {
          await waitFor(async () => (await RateJob.status(jobId))?.state === "succeeded", { message: "each job to succeed" });
          expect((await RateJob.status(jobId))?.executions).toBe(1);
        }
      });
    });

    it("a deferred job stays queued without an execution counted; another key is not held up", async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        const rateLimit = { key: "deferred", limit: 1, perMs: 60_000 };
        const [first, second] = [flowPayload({ rateLimit }), flowPayload({ rateLimit })];
        const free = flowPayload({ rateLimit: { ...rateLimit, key: "other" } });
        await fixture.adapter.enqueue({ jobs: [first, second, free] });
        const taken = await reserve(fixture.adapter, { max: 10 });
        expect(taken.map((r) => JSON.parse(r.body).id).sort()).toEqual([first.id, free.id].sort());
        expect(await reserve(fixture.adapter, { max: 10 })).toEqual([]);
        const [status] = await fixture.adapter.getStatus({ ids: [second.id] });
        expect(status).toMatchObject({ state: "queued", executions: 0 });
        const counts = (await fixture.adapter.listQueues({})).find((queue) => queue.name === "default");
        expect(counts).toMatchObject({ queued: 1, running: 2 });
      });
    });

    it.runIf(caps.concurrencyLimits)("a job with both limits obeys both: 1 at a time, 2 starts per 1,500 ms", async () => {
      await withFixture(wiring, FLOW_CONFIG, async (fixture) => {
        // A worker's first run of a class is late from its lease by its cold start (JIT,
        // first reads: 20–35 ms here, over 100 ms on a loaded machine), and starts are read
        // in the job: a cold first start narrows the measured window by that much. One run
        // under another key warms the worker first.
        await fixture.startWorker({ concurrency: 6 });
        await BothLimitsJob.performLater("warm-up", 1);
        await waitFor(() => flowJournal.starts.get("warm-up")?.length === 1 && flowJournal.running.get("warm-up") === 0, { timeoutMs: 10_000, message: "the warm-up job to run" });
        for (let i = 0; i < 6; i++) await BothLimitsJob.performLater("both", 20);
        await waitFor(() => flowJournal.starts.get("both")?.length === 6 && flowJournal.running.get("both") === 0, {
          timeoutMs: 20_000,
          message: "the 6 jobs to run",
        });
        expect(flowJournal.most.get("both")).toBe(1);
        expect(tightestWindow(flowJournal.starts.get("both")!, 2)).toBeGreaterThanOrEqual(1_500 - 300);
      });
    });
  });
}
