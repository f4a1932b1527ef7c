/**
 * Faults: kill -9 of a worker holding concurrency slots. Its slots come back when its leases
 * run out, no job is lost, and the limit is never exceeded — counted from the jobs' own
 * start and end times (a job of the killed worker ends at the kill).
 */
import { existsSync, readFileSync } from "node:fs";

import { waitFor } from "@errand/core/testing";
import { describe, expect, it } from "vitest";

import { LimitedJob } from "../fixtures/faults/jobs.mjs";
import { expectStored, lost, type FaultSuite } from "./harness.js";

const LIMIT = 3;
const JOBS = 60;

/** Spans started and not ended. */
function openSpans(spansFile: string): number {
  const lines = existsSync(spansFile) ? readFileSync(spansFile, "utf8").split("\n") : [];
  return lines.filter((line) => line.startsWith("start ")).length - lines.filter((line) => line.startsWith("end ")).length;
}

/** The most spans open at once; a span without an end ends at `endOfOpen`. */
function mostAtOnce(spansFile: string, endOfOpen: number): { most: number; starts: number[] } {
  const lines = existsSync(spansFile) ? readFileSync(spansFile, "utf8").split("\n").filter(Boolean) : [];
  const events: [time: number, delta: number][] = [];
  const open = new Map<string, number>();
  const starts: number[] = [];
  for (const line of lines) {
    const [kind, n, time] = line.split(" ");
    if (kind === "start") {
      open.set(n!, (open.get(n!) ?? 0) + 1);
      events.push([Number(time), 1]);
      starts.push(Number(time));
    } else {
      open.set(n!, open.get(n!)! - 1);
      events.push([Number(time), -1]);
    }
  }
  for (const [, count] of open) for (let i = 0; i < count; i++) events.push([endOfOpen, -1]);
  // Ends before starts at one millisecond: a job ends, settles, and only then does the next start.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, delta] of events) most = Math.max(most, (now += delta));
  return { most, starts };
}

/** Registers the flow-control fault cases for one backend. */
export function flowFaultSuite({ wiring, newCase }: FaultSuite): void {
  describe(`${wiring.name} faults: flow control`, () => {
    it(`kill -9 of a worker holding concurrency slots (limit ${LIMIT}, ${JOBS} jobs): the slots come back after the lease, none lost, the limit never exceeded`, async (context) => {
      const c = newCase();
      if (!c.store.adapter().capabilities.concurrencyLimits) {
        context.skip(`the ${wiring.name} fault wiring's adapter has no concurrency limits`);
        return;
      }
      await c.enqueue(LimitedJob, JOBS);
      const first = c.startWorker(10);
      await c.untilSucceeded(first, 12, 30_000);
      // Killed while a job runs (a span open), not in the gap between two: it holds slots.
      const spans = `${c.runsFile}.spans`;
      await waitFor(() => openSpans(spans) > 0, { timeoutMs: 10_000, intervalMs: 1, message: "a job of the key running" });
      first.child.kill("SIGKILL");
      expect((await first.exit(5_000)).signal).toBe("SIGKILL");
      const killedAt = Date.now();
      const heldAtKill = openSpans(spans);
      // A job may end in the instant between the look and the kill; its lease is held until
      // settled, which a killed worker never does.
      const leasedAtKill = (await c.count()).leased;
      expect(heldAtKill + leasedAtKill, "the worker held slots when killed").toBeGreaterThan(0);

      const second = c.startWorker(10);
      await c.untilSucceeded(second, JOBS, 60_000);
      await second.stop();
      const { most, starts } = mostAtOnce(spans, killedAt);
      const end = await c.count();
      const ran = c.runs();
      expectStored(end, { ready: 0, leased: 0, dead: 0, succeeded: JOBS });
      expect(ran.distinct).toBe(JOBS);
      expect(lost(JOBS, end, ran)).toBe(0);
      expect(most, "jobs of the key running at once").toBeLessThanOrEqual(LIMIT);
      const firstAfterKill = Math.min(...starts.filter((time) => time >= killedAt));
      c.summary("kill -9 holding concurrency slots", {
        jobs: JOBS,
        limit: LIMIT,
        succeeded: end.succeeded,
        lost: lost(JOBS, end, ran),
        "running at kill": heldAtKill,
        "leased at kill": leasedAtKill,
        "most at once": most,
        "ran twice": ran.total - JOBS,
        "kill to first start after it ms": firstAfterKill - killedAt,
        "lease ms": wiring.leaseMs,
      });
    }, 100_000);
  });
}
