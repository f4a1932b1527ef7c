/**
 * Faults: a resumable job (issue 17) iterating 10,000 records, its `errand work` process
 * sent SIGTERM three times at random points; each time the job stops at its next
 * checkpoint, is re-enqueued with its cursor and resumed by the next worker process. Every
 * record is processed, none twice (a record is recorded before the cursor moves past it).
 */
import { describe, expect, it } from "vitest";

import { RECORDS, RecordsJob } from "../fixtures/faults/jobs.mjs";
import { expectStored, type FaultSuite } from "./harness.js";

/** Three stop points, one in each third of the records, at random within it. */
function stopPoints(): number[] {
  const third = RECORDS / 3;
  return [0, 1, 2].map((index) => Math.floor(index * third + third * (0.15 + Math.random() * 0.6)));
}

/** Registers the continuation case for one backend. */
export function continuationsFaultSuite({ wiring, newCase }: FaultSuite): void {
  describe(`${wiring.name} faults: continuations`, () => {
    it("SIGTERM three times at random points in a 10,000-record step: every record processed, none twice", async () => {
      const c = newCase();
      const started = performance.now();
      await c.enqueue(RecordsJob, 1);
      const points = stopPoints();
      const reached: number[] = [];
      for (const point of points) {
        const worker = c.startWorker(1);
        await c.until(worker, `record ${point} processed`, 30_000, (_, runs) => runs().total >= point);
        await worker.stop();
        // The job stopped at its next checkpoint: what ran is on record, and nothing twice.
        const runs = c.runs();
        expect(runs.repeated, worker.tail()).toEqual([]);
        expect(worker.stdout, worker.tail()).toMatch(/SIGTERM: stopping; 1 running job/);
        reached.push(runs.total);
      }
      const last = c.startWorker(1);
      await c.untilSucceeded(last, 1, 60_000);
      await last.stop();
      const ran = c.runs();
      const end = await c.count();
      expectStored(end, { ready: 0, leased: 0, dead: 0, succeeded: 1 });
      expect(ran.distinct).toBe(RECORDS);
      expect(ran.repeated).toEqual([]);
      expect(ran.total).toBe(RECORDS);
      c.summary("continuations", {
        records: RECORDS,
        processed: ran.distinct,
        "processed twice": ran.total - ran.distinct,
        "SIGTERM after records": reached.join("/"),
        "total ms": Math.round(performance.now() - started),
      });
    }, 120_000);
  });
}
