/**
 * Faults: a stored body that is not JSON and one naming a job no worker knows — both end
 * dead with the reason, listed under the id the worker reported them by; the good jobs
 * around them succeed and the worker goes on.
 */
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { TickJob } from "../fixtures/faults/jobs.mjs";
import { expectStored, lost, QUEUE, type FaultSuite } from "./harness.js";

/** Registers the bad payload case for one backend. */
export function badPayloadSuite({ wiring, newCase }: FaultSuite): void {
  describe(`${wiring.name} faults: bad payloads`, () => {
    it("a body that is not JSON and one naming an unregistered job end dead with the reason, under the ids the worker reported; 100 good jobs succeed, the worker goes on", async () => {
      const jobs = 100;
      const c = newCase();
      const started = performance.now();
      await c.enqueue(TickJob, jobs / 2);
      // Two jobs stored the way the backend stores them, bypassing the adapter's encoding (as
      // the conformance suite's insertRaw does): one body not JSON, one a valid payload of a
      // job no worker knows.
      const malformedBody = "{this is not json";
      const now = new Date().toISOString();
      const ghost = { v: 1, job: "GhostJob", id: randomUUID(), queue: QUEUE, priority: 0, args: { json: [] }, executions: 0, enqueuedAt: now, runAt: now };
      // A body that cannot be read has no job id of its own: it goes by the backend's id (on
      // SQS, the message id it was sent with).
      const malformedId = await c.insertRaw({ id: randomUUID(), job: "raw", body: malformedBody });
      await c.insertRaw({ id: ghost.id, job: ghost.job, body: JSON.stringify(ghost) });

      const worker = c.startWorker(5);
      await c.until(worker, `${jobs / 2} succeeded and 2 dead`, 15_000, (p, r) => p.succeeded >= jobs / 2 && p.dead === 2 && p.pending === 0 && r().distinct >= jobs / 2);
      // The worker goes on after the bad jobs: the second half, enqueued now, runs too.
      await c.enqueue(TickJob, jobs / 2);
      await c.until(worker, `${jobs} succeeded`, 15_000, (p, r) => p.succeeded >= jobs && p.pending === 0 && r().distinct >= jobs);
      const drainedMs = performance.now() - started;
      expect(worker.child.exitCode, worker.tail()).toBeNull();
      await worker.stop();

      const end = await c.count();
      expectStored(end, { ready: 0, leased: 0, dead: 2, succeeded: jobs });
      // The dead set as an operator sees it, read by this process (the worker that buried
      // them is gone).
      const adapter = c.store.adapter();
      const dead = await adapter.listDead({ queue: QUEUE }).finally(() => adapter.close());
      expect(dead).toHaveLength(2);
      const ghostDead = dead.find((job) => job.id === ghost.id);
      const malformedDead = dead.find((job) => job.body === malformedBody);
      expect(ghostDead, JSON.stringify(dead)).toMatchObject({ queue: QUEUE, error: { code: "ERR_UNKNOWN_JOB", message: expect.stringMatching(/^unknown job class "GhostJob"/) } });
      expect(JSON.parse(ghostDead!.body), "the unknown job's payload is kept as sent").toEqual(ghost);
      expect(malformedDead, JSON.stringify(dead)).toMatchObject({ queue: QUEUE, error: { code: "ERR_MALFORMED_PAYLOAD", message: expect.stringMatching(/^malformed payload: not JSON/) } });
      // Listing keeps nothing (on SQS it receives from the dead-letter queue): both are still there.
      expectStored(await c.count(), { dead: 2 }, "after listDead");
      const ran = c.runs();
      expect({ total: ran.total, distinct: ran.distinct, repeated: ran.repeated }).toEqual({ total: jobs, distinct: jobs, repeated: [] });
      expect(lost(jobs, end, ran)).toBe(0);
      c.summary("bad payloads", {
        jobs,
        succeeded: end.succeeded,
        lost: lost(jobs, end, ran),
        dead: end.dead,
        "dead reasons": dead.map((job) => JSON.stringify(job.error.message.split(" (")[0])).join(" | "),
        "total ms": Math.round(drainedMs),
      });
      // The unreadable job is dead under the id the worker reported it by (`job:dead`'s
      // providerJobId, the "? <id> dead: …" line of `errand work`), the only id it ever had:
      // `errand dead retry/purge <id>` select by this id.
      expect(worker.stdout, worker.tail()).toContain(`? ${malformedId} dead: MalformedPayloadError`);
      expect(
        malformedDead!.id,
        "the dead job of an unreadable body is listed under another id than the worker reported (on SQS: the dead-letter copy's new message id)",
      ).toBe(malformedId);
    }, 40_000);
  });
}
