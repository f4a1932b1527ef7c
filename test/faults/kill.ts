/** Faults: kill -9 mid-run — a second worker finishes once the lease runs out, none lost, only jobs the dead worker ran run twice. */
import { waitFor } from "@errand/core/testing";
import { describe, expect, it } from "vitest";

import { TickJob } from "../fixtures/faults/jobs.mjs";
import { expectStored, extraExecutions, lost, type FaultSuite } from "./harness.js";

/** Registers the kill -9 case for one backend. */
export function killSuite({ wiring, newCase }: FaultSuite): void {
  const jobs = wiring.killJobs;
  describe(`${wiring.name} faults: kill -9`, () => {
    it(`kill -9 mid-run, ${jobs.toLocaleString("en-US")} jobs: a second worker finishes them after the lease, none lost, only jobs the dead worker ran run twice`, async () => {
      const c = newCase();
      const started = performance.now();
      await c.enqueue(TickJob, jobs);
      const enqueuedMs = performance.now() - started;
      // The cheap counts: a full count here read 10,000 Redis hashes for a fact this shows.
      expect(await c.progress()).toEqual({ succeeded: 0, dead: 0, pending: jobs });

      const first = c.startWorker(20);
      await c.untilSucceeded(first, jobs * 0.3, 30_000);
      // Killed while it holds leases: frozen (SIGSTOP) it sends nothing more, and a moment
      // when it held none — its buffer settled, the next reserve in flight (rolled back by the
      // kill) — is let go (SIGCONT) and looked at again. Killed at such a moment, it stranded
      // nothing, and the case proved nothing (seen once in a loaded run).
      await waitFor(
        async () => {
          first.child.kill("SIGSTOP");
          if ((await c.count()).leased > 0) return true;
          first.child.kill("SIGCONT");
          return false;
        },
        { timeoutMs: 10_000, message: `the worker holding leases\n${first.tail()}` },
      );
      first.child.kill("SIGKILL");
      expect((await first.exit(5_000)).signal).toBe("SIGKILL");
      const killedAt = performance.now();
      // The server applies what the dead worker had sent before it frees its connections:
      // once they are gone, the store holds everything the worker ever wrote. (SQS has none
      // to wait for: each call was answered before the next.)
      const connections = c.store.connections;
      if (connections) await waitFor(async () => (await connections.list()).length === 0, { timeoutMs: 5_000, message: "the killed worker's connections closed" });
      const checkStranded = await c.store.afterKill?.(c);
      // Held by the dead worker (running, buffered, or done and not settled yet): they come
      // back only when their lease runs out.
      const atKill = await c.count();
      const ranAtKill = c.runs();
      expect(atKill.anomalies, atKill.raw).toEqual({});
      expect(atKill.leased, `the worker held no job when killed: nothing was stranded\n${first.tail()}`).toBeGreaterThan(0);
      expect(atKill.ready, `the worker had taken every job before the kill: not mid-run\n${atKill.raw}`).toBeGreaterThan(0);
      expect(atKill.dead).toBe(0);
      // Nothing gone at the kill: every job has run or is still stored to run.
      expect(ranAtKill.distinct + atKill.ready + atKill.leased).toBeGreaterThanOrEqual(jobs);

      const second = c.startWorker(20);
      await c.untilSucceeded(second, jobs, 60_000);
      const drainedAt = performance.now();
      expect(second.child.exitCode, second.tail()).toBeNull();
      await second.stop();

      const end = await c.count();
      const ran = c.runs();
      expectStored(end, { ready: 0, leased: 0, dead: 0, succeeded: jobs });
      expect(ran.distinct).toBe(jobs);
      expect(ran.total).toBeGreaterThanOrEqual(jobs);
      expect([...ran.args].filter((n) => !(Number.isInteger(n) && n >= 0 && n < jobs))).toEqual([]);
      // Only a job the dead worker had run (and not settled) may run twice…
      expect(ran.repeated.filter((n) => !ranAtKill.args.has(n))).toEqual([]);
      // …so no more than it held, and each twice at most: the second worker renewed its own
      // leases, so none came back from it.
      expect(ran.repeated.length).toBeLessThanOrEqual(atKill.leased);
      expect(ran.total - ran.distinct).toBe(ran.repeated.length);
      await checkStranded?.(ran);
      expect(lost(jobs, end, ran)).toBe(0);
      c.summary("kill -9", {
        jobs,
        succeeded: end.succeeded,
        lost: lost(jobs, end, ran),
        "succeeded at kill": atKill.succeeded,
        "stranded at kill (leased)": atKill.leased,
        "ran at kill": ranAtKill.distinct,
        "ran twice (runs recorded)": ran.total - jobs,
        "ran twice (sum of executions)": extraExecutions(end, jobs),
        "enqueue ms": Math.round(enqueuedMs),
        "kill to drained ms": Math.round(drainedAt - killedAt),
        "total ms": Math.round(drainedAt - started),
      });
    }, 100_000);
  });
}
