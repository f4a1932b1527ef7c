/**
 * Faults: SIGTERM mid-run — the worker exits 0 by itself, running jobs finish within the
 * grace, jobs it held but had not started are handed back at once (not when their lease
 * runs out), a second worker drains them, none lost, none run twice.
 */
import { waitFor } from "@errand/core/testing";
import { describe, expect, it } from "vitest";

import { SlowJob } from "../fixtures/faults/jobs.mjs";
import { expectStored, extraExecutions, lost, type FaultSuite } from "./harness.js";

/** Registers the SIGTERM case for one backend. */
export function sigtermSuite({ wiring, newCase }: FaultSuite): void {
  describe(`${wiring.name} faults: SIGTERM`, () => {
    it("SIGTERM mid-run: the worker exits 0 by itself, running jobs finish, unstarted ones are handed back at once, a second worker drains them, none lost", async () => {
      const jobs = 200;
      const c = newCase();
      const started = performance.now();
      await c.enqueue(SlowJob, jobs);

      // Where the store lets expired leases go by itself (SQS), the first worker's lease
      // outlasts the case: a job ready again after it stopped was handed back, not expired,
      // however late the store is read.
      const first = c.startWorker(10, wiring.longLeaseEnv);
      await c.untilSucceeded(first, 30, 30_000);
      // Signal while a job is in flight (started, not run: SlowJob takes 300 ms), not in a
      // gap between a drained buffer and its refill, which a loaded machine can open.
      await waitFor(() => c.startedNotRun() > 0, { timeoutMs: 30_000, intervalMs: 5, message: "a SlowJob in flight" });
      // stop() waits for the worker's start line (its SIGTERM handler comes with it) and
      // asserts the clean exit.
      await first.stop();
      const afterStop = await c.count();
      const ranAtStop = c.runs();
      const signalled = first.stdout.match(/SIGTERM: stopping; (\d+) running job/);
      const stopped = first.stdout.match(/stopped: (\d+) job\(s\) processed, (\d+) released back/);
      expect(signalled, first.tail()).not.toBeNull();
      expect(stopped, first.tail()).not.toBeNull();
      const [runningAtSignal, processed, released] = [Number(signalled![1]), Number(stopped![1]), Number(stopped![2])];

      // Jobs were running at the signal, and more waited in the worker's buffer: otherwise
      // this case proves nothing.
      expect(runningAtSignal, first.tail()).toBeGreaterThan(0);
      expect(released, first.tail()).toBeGreaterThan(0);
      // Running jobs finished within the grace: every job the worker processed ran once and
      // was settled; none was cut short and handed back.
      expect(processed).toBe(ranAtStop.distinct);
      expect(ranAtStop.total).toBe(ranAtStop.distinct);
      // Nothing left leased: the rest is ready now, as it was enqueued (a hand-back uncounts
      // the start and drops the lease; the wiring counts a ready job with either as an anomaly).
      expectStored(afterStop, { ready: jobs - ranAtStop.distinct, leased: 0, dead: 0, succeeded: ranAtStop.distinct }, first.tail());
      expect(afterStop.ready).toBeGreaterThan(0);

      const second = c.startWorker(10);
      await c.untilSucceeded(second, jobs, 30_000);
      const drainedMs = performance.now() - started;
      await second.stop();

      const end = await c.count();
      const ran = c.runs();
      expectStored(end, { ready: 0, leased: 0, dead: 0, succeeded: jobs });
      expect(ran.distinct).toBe(jobs);
      // Running jobs finished and the rest never started: nothing ran twice.
      expect(ran.total).toBe(jobs);
      expect(lost(jobs, end, ran)).toBe(0);
      c.summary("SIGTERM", {
        jobs,
        succeeded: end.succeeded,
        lost: lost(jobs, end, ran),
        "running at SIGTERM": runningAtSignal,
        "succeeded at stop": afterStop.succeeded,
        "ready at stop (released + never reserved)": afterStop.ready,
        "worker said processed/released": `${processed}/${released}`,
        "ran twice (runs recorded)": ran.total - jobs,
        "ran twice (sum of executions)": extraExecutions(end, jobs),
        "total ms": Math.round(drainedMs),
      });
    }, 40_000);
  });
}
