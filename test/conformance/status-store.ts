/**
 * Conformance: status stores (`StatusStore` from `@errand/core/adapter`) — where a backend
 * that keeps no job state (SQS) keeps statuses, and which tells a delivery's current lease
 * from a stale one. `LocalStatusStore` is the reference; a store's test file is only wiring:
 *
 *   statusStoreSuite("redis", async () => new RedisStatusStore({ url, prefix: fresh() }));
 *
 * Each case builds a fresh store (its own key prefix or schema) and closes it. The cases
 * call the store directly, as the SQS adapter does: no queue, no worker, no waiting, except
 * in the expiry case, which polls until a 1 ms retention has passed.
 */
import { randomBytes } from "node:crypto";

import { describe, expect, it } from "vitest";

import { uuidv7, type JobPayload, type Settlement, type StatusRecord, type StatusStore, type StoredError } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

/** Optional wiring for cases that need a store built differently. */
export interface StatusStoreSuiteOptions {
  /** A fresh store whose finished statuses are kept `finishedTtlMs`; without it the expiry case is skipped. */
  createWithTtl?(finishedTtlMs: number): Promise<StatusStore>;
}

const HOUR = 3_600_000;
/** Slack for times stamped by a server's clock (Redis TIME, PostgreSQL now()) against this process's. */
const CLOCK_SLACK_MS = 1000;

const boom: StoredError = { name: "Error", message: "boom", stack: "Error: boom\n    at perform (job.ts:1:1)" };
const gone: StoredError = { name: "GoneError", message: "record gone", code: "E_GONE" };

/** A payload due now (or at `runAt`), as core would store it. */
function payload(overrides: Partial<JobPayload> = {}): JobPayload {
  const now = Date.now();
  return {
    v: 1,
    job: "ReportJob",
    id: uuidv7(),
    queue: "reports",
    priority: 3,
    args: { json: [42] },
    executions: 0,
    enqueuedAt: new Date(now - 2000).toISOString(),
    runAt: new Date(now - 1000).toISOString(),
    ...overrides,
  };
}

function later(ms = HOUR): string {
  return new Date(Date.now() + ms).toISOString();
}

/** A fresh lease token (an SQS receipt handle, say). */
function lease(): string {
  return `lease-${randomBytes(6).toString("hex")}`;
}

const reservation = (id: string) => ({ providerJobId: id, body: "" });

const outcome = {
  succeeded: (id: string, result?: string): Settlement =>
    result === undefined ? { reservation: reservation(id), outcome: "succeeded" } : { reservation: reservation(id), outcome: "succeeded", result },
  failed: (id: string, error: StoredError = gone): Settlement => ({ reservation: reservation(id), outcome: "failed", error }),
  dead: (id: string, error: StoredError = boom): Settlement => ({ reservation: reservation(id), outcome: "dead", error }),
  released: (id: string): Settlement => ({ reservation: reservation(id), outcome: "released" }),
  retry: (p: JobPayload, runAt: Date, changes: { queue?: string; priority?: number } = {}): Settlement => ({
    reservation: reservation(p.id),
    outcome: "retry",
    payload: { ...p, ...changes, executions: p.executions + 1, runAt: runAt.toISOString() },
    runAt,
    error: boom,
  }),
};

/** Asserts a time stamped during a call that began at `before` and ended at `after`. */
function expectDuring(date: Date | undefined, before: number, after: number): void {
  expect(date).toBeInstanceOf(Date);
  expect(date!.getTime()).toBeGreaterThanOrEqual(before - CLOCK_SLACK_MS);
  expect(date!.getTime()).toBeLessThanOrEqual(after + CLOCK_SLACK_MS);
}

/** The one status of `id`, which must exist. */
async function statusOf(store: StatusStore, id: string): Promise<StatusRecord> {
  const [record] = await store.get([id]);
  expect(record, `status of ${id}`).not.toBeNull();
  return record!;
}

/** The stale ids among these (id, lease) pairs. */
async function staleOf(store: StatusStore, ...pairs: [id: string, lease: string][]): Promise<string[]> {
  return [...(await store.stale(pairs.map(([id, l]) => ({ id, lease: l }))))].sort();
}

/** Registers the status-store conformance cases for one store. */
export function statusStoreSuite(name: string, create: () => Promise<StatusStore>, options: StatusStoreSuiteOptions = {}): void {
  async function withStore(run: (store: StatusStore) => Promise<void>, make: () => Promise<StatusStore> = create): Promise<void> {
    const store = await make();
    try {
      await run(store);
    } finally {
      await store.close();
    }
  }

  describe(`${name}: status store`, () => {
    describe("transitions", () => {
      it("records an enqueued job as queued, or scheduled while its runAt is later", async () => {
        await withStore(async (store) => {
          const due = payload({ executions: 2 });
          const scheduled = payload({ runAt: later(), queue: "mail", priority: -5, job: "DigestJob" });
          const before = Date.now();
          await store.enqueued([due, scheduled]);
          const after = Date.now();
          const [a, b] = await store.get([due.id, scheduled.id]);
          expect(a).toEqual({
            id: due.id,
            job: "ReportJob",
            queue: "reports",
            priority: 3,
            state: "queued",
            executions: 2,
            enqueuedAt: new Date(due.enqueuedAt),
            runAt: new Date(due.runAt),
            updatedAt: expect.any(Date),
          });
          expectDuring(a!.updatedAt, before, after);
          expect(b).toMatchObject({ id: scheduled.id, job: "DigestJob", queue: "mail", priority: -5, state: "scheduled", executions: 0 });
          expect(b!.runAt).toEqual(new Date(scheduled.runAt));
          for (const record of [a!, b!]) {
            expect(record.startedAt).toBeUndefined();
            expect(record.finishedAt).toBeUndefined();
            expect(record.error).toBeUndefined();
            expect(record.result).toBeUndefined();
            expect(record.progress).toBeUndefined();
          }
        });
      });

      it("started marks a job running, counts one more execution and stamps startedAt", async () => {
        await withStore(async (store) => {
          const p = payload({ executions: 1 });
          await store.enqueued([p]);
          const enqueued = await statusOf(store, p.id);
          const before = Date.now();
          await store.started([{ id: p.id, lease: lease() }]);
          const after = Date.now();
          const running = await statusOf(store, p.id);
          expect(running).toMatchObject({ state: "running", executions: 2, queue: "reports", priority: 3 });
          expectDuring(running.startedAt, before, after);
          expect(running.updatedAt.getTime()).toBeGreaterThanOrEqual(enqueued.updatedAt.getTime());
          expect(running.finishedAt).toBeUndefined();
        });
      });

      it("succeeded finishes a job with its result, or with none", async () => {
        await withStore(async (store) => {
          const [withResult, without] = [payload(), payload()];
          const [l1, l2] = [lease(), lease()];
          await store.enqueued([withResult, without]);
          await store.started([{ id: withResult.id, lease: l1 }, { id: without.id, lease: l2 }]);
          const before = Date.now();
          await store.settled([
            { id: withResult.id, lease: l1, settlement: outcome.succeeded(withResult.id, '{"json":{"rows":3}}') },
            { id: without.id, lease: l2, settlement: outcome.succeeded(without.id) },
          ]);
          const after = Date.now();
          const [a, b] = await store.get([withResult.id, without.id]);
          expect(a).toMatchObject({ state: "succeeded", executions: 1, result: '{"json":{"rows":3}}' });
          expectDuring(a!.finishedAt, before, after);
          expect(a!.error).toBeUndefined();
          expect(b).toMatchObject({ state: "succeeded", executions: 1 });
          expect(b!.result).toBeUndefined();
          expect(b!.finishedAt).toBeInstanceOf(Date);
        });
      });

      it("failed and dead finish a job with its error", async () => {
        await withStore(async (store) => {
          const [discarded, buried] = [payload(), payload()];
          const [l1, l2] = [lease(), lease()];
          await store.enqueued([discarded, buried]);
          await store.started([{ id: discarded.id, lease: l1 }, { id: buried.id, lease: l2 }]);
          await store.settled([
            { id: discarded.id, lease: l1, settlement: outcome.failed(discarded.id) },
            { id: buried.id, lease: l2, settlement: outcome.dead(buried.id) },
          ]);
          const [a, b] = await store.get([discarded.id, buried.id]);
          expect(a).toMatchObject({ state: "failed", executions: 1, error: gone });
          expect(b).toMatchObject({ state: "dead", executions: 1, error: boom });
          expect(a!.finishedAt).toBeInstanceOf(Date);
          expect(b!.finishedAt).toBeInstanceOf(Date);
          expect(a!.result).toBeUndefined();
        });
      });

      it("retry waits for the next attempt with the error and the new runAt, queue and priority", async () => {
        await withStore(async (store) => {
          const p = payload();
          const [l1, l2] = [lease(), lease()];
          await store.enqueued([p]);
          await store.started([{ id: p.id, lease: l1 }]);
          const next = new Date(Date.now() + HOUR);
          await store.settled([{ id: p.id, lease: l1, settlement: outcome.retry(p, next, { queue: "reports-slow", priority: 9 }) }]);
          const retrying = await statusOf(store, p.id);
          expect(retrying).toMatchObject({ state: "retrying", executions: 1, error: boom, queue: "reports-slow", priority: 9 });
          expect(retrying.runAt).toEqual(next);
          expect(retrying.finishedAt).toBeUndefined();
          // The next delivery runs it again.
          await store.started([{ id: p.id, lease: l2 }]);
          expect(await statusOf(store, p.id)).toMatchObject({ state: "running", executions: 2, queue: "reports-slow" });
          await store.settled([{ id: p.id, lease: l2, settlement: outcome.succeeded(p.id, "done") }]);
          expect(await statusOf(store, p.id)).toMatchObject({ state: "succeeded", executions: 2, result: "done" });
        });
      });

      it("released puts a job back uncounted: queued when due, scheduled while its runAt is later", async () => {
        await withStore(async (store) => {
          const [due, backedOff] = [payload(), payload()];
          const [l1, l2, l3] = [lease(), lease(), lease()];
          await store.enqueued([due, backedOff]);
          await store.started([{ id: due.id, lease: l1 }, { id: backedOff.id, lease: l2 }]);
          // backedOff failed once and waits an hour; then a worker takes it early and hands it back (shutdown).
          await store.settled([{ id: backedOff.id, lease: l2, settlement: outcome.retry(backedOff, new Date(Date.now() + HOUR)) }]);
          await store.started([{ id: backedOff.id, lease: l3 }]);
          await store.settled([
            { id: due.id, lease: l1, settlement: outcome.released(due.id) },
            { id: backedOff.id, lease: l3, settlement: outcome.released(backedOff.id) },
          ]);
          const [a, b] = await store.get([due.id, backedOff.id]);
          expect(a).toMatchObject({ state: "queued", executions: 0 });
          expect(b).toMatchObject({ state: "scheduled", executions: 1 });
          expect(a!.finishedAt).toBeUndefined();
          expect(b!.finishedAt).toBeUndefined();
        });
      });

      it("a job enqueued again (a dead job moved back) starts afresh", async () => {
        await withStore(async (store) => {
          const p = payload();
          const l1 = lease();
          await store.enqueued([p]);
          await store.started([{ id: p.id, lease: l1 }]);
          await store.progress([{ id: p.id, fraction: 0.5 }]);
          await store.settled([{ id: p.id, lease: l1, settlement: outcome.dead(p.id) }]);
          await store.enqueued([{ ...p, executions: 0, runAt: new Date(Date.now() - 1000).toISOString() }]);
          const revived = await statusOf(store, p.id);
          expect(revived).toMatchObject({ state: "queued", executions: 0 });
          expect(revived.error).toBeUndefined();
          expect(revived.finishedAt).toBeUndefined();
          expect(revived.startedAt).toBeUndefined();
          expect(revived.progress).toBeUndefined();
          // The old delivery's lease went with the old status.
          expect(await staleOf(store, [p.id, l1])).toEqual([]);
        });
      });
    });

    describe("leases", () => {
      it("an id the store does not know is not stale", async () => {
        await withStore(async (store) => {
          expect(await staleOf(store, [uuidv7(), lease()], ["not-a-uuid", lease()])).toEqual([]);
        });
      });

      it("a job enqueued but never delivered is not stale under any lease", async () => {
        await withStore(async (store) => {
          const p = payload();
          await store.enqueued([p]);
          expect(await staleOf(store, [p.id, lease()])).toEqual([]);
        });
      });

      it("a redelivery counts another execution and makes the earlier lease stale", async () => {
        await withStore(async (store) => {
          const p = payload();
          const [l1, l2] = [lease(), lease()];
          await store.enqueued([p]);
          await store.started([{ id: p.id, lease: l1 }]);
          expect(await staleOf(store, [p.id, l1])).toEqual([]);
          expect(await staleOf(store, [p.id, l2])).toEqual([p.id]);
          // l1's lease ran out; the job is delivered again under l2.
          await store.started([{ id: p.id, lease: l2 }]);
          expect(await statusOf(store, p.id)).toMatchObject({ state: "running", executions: 2 });
          expect(await staleOf(store, [p.id, l1])).toEqual([p.id]);
          expect(await staleOf(store, [p.id, l2])).toEqual([]);
        });
      });

      it("a finished job's leases are stale, the one that settled it included", async () => {
        await withStore(async (store) => {
          const p = payload();
          const [l1, l2] = [lease(), lease()];
          await store.enqueued([p]);
          await store.started([{ id: p.id, lease: l1 }]);
          await store.started([{ id: p.id, lease: l2 }]);
          await store.settled([{ id: p.id, lease: l2, settlement: outcome.succeeded(p.id) }]);
          expect(await staleOf(store, [p.id, l1])).toEqual([p.id]);
          expect(await staleOf(store, [p.id, l2])).toEqual([p.id]);
        });
      });

      it("after a retry or a release, the next delivery's lease is current and the earlier one stale", async () => {
        await withStore(async (store) => {
          const [retried, released] = [payload(), payload()];
          const [r1, r2, s1, s2] = [lease(), lease(), lease(), lease()];
          await store.enqueued([retried, released]);
          await store.started([{ id: retried.id, lease: r1 }, { id: released.id, lease: s1 }]);
          await store.settled([
            { id: retried.id, lease: r1, settlement: outcome.retry(retried, new Date()) },
            { id: released.id, lease: s1, settlement: outcome.released(released.id) },
          ]);
          await store.started([{ id: retried.id, lease: r2 }, { id: released.id, lease: s2 }]);
          expect(await staleOf(store, [retried.id, r1], [released.id, s1])).toEqual([retried.id, released.id].sort());
          expect(await staleOf(store, [retried.id, r2], [released.id, s2])).toEqual([]);
        });
      });

      it("a stale settlement changes nothing", async () => {
        await withStore(async (store) => {
          const p = payload();
          const [l1, l2] = [lease(), lease()];
          await store.enqueued([p]);
          await store.started([{ id: p.id, lease: l1 }]);
          await store.started([{ id: p.id, lease: l2 }]);
          const running = await statusOf(store, p.id);
          // The first holder, whose lease ran out, reports every kind of outcome: all ignored.
          for (const settlement of [outcome.failed(p.id), outcome.dead(p.id), outcome.succeeded(p.id, "early"), outcome.released(p.id), outcome.retry(p, new Date(Date.now() + HOUR))]) {
            await store.settled([{ id: p.id, lease: l1, settlement }]);
          }
          expect(await statusOf(store, p.id)).toEqual(running);
          // The current holder's outcome counts.
          await store.settled([{ id: p.id, lease: l2, settlement: outcome.succeeded(p.id, "ok") }]);
          const done = await statusOf(store, p.id);
          expect(done).toMatchObject({ state: "succeeded", executions: 2, result: "ok" });
          // Once finished, neither lease can change it again.
          await store.settled([{ id: p.id, lease: l2, settlement: outcome.dead(p.id) }]);
          await store.settled([{ id: p.id, lease: l1, settlement: outcome.released(p.id) }]);
          expect(await statusOf(store, p.id)).toEqual(done);
        });
      });

      it("a duplicate delivery of a finished job holds a current lease and leaves the status alone", async () => {
        await withStore(async (store) => {
          const p = payload();
          const [l1, l2] = [lease(), lease()];
          await store.enqueued([p]);
          await store.started([{ id: p.id, lease: l1 }]);
          await store.settled([{ id: p.id, lease: l1, settlement: outcome.succeeded(p.id, "once") }]);
          const done = await statusOf(store, p.id);
          // A queue that delivers at least once hands the finished job out again: the worker must
          // be able to settle it (on SQS, to delete the message), and the status stays as it was.
          await store.started([{ id: p.id, lease: l2 }]);
          expect(await statusOf(store, p.id)).toEqual(done);
          expect(await staleOf(store, [p.id, l2])).toEqual([]);
          expect(await staleOf(store, [p.id, l1])).toEqual([p.id]);
          await store.settled([{ id: p.id, lease: l2, settlement: outcome.failed(p.id) }]);
          expect(await statusOf(store, p.id)).toEqual(done);
          expect(await staleOf(store, [p.id, l2])).toEqual([p.id]);
        });
      });

      it("deliveries of a job never recorded supersede each other without making a status", async () => {
        await withStore(async (store) => {
          const id = uuidv7();
          const [l1, l2] = [lease(), lease()];
          await store.started([{ id, lease: l1 }]);
          await store.started([{ id, lease: l2 }]);
          expect(await store.get([id])).toEqual([null]);
          expect(await staleOf(store, [id, l1])).toEqual([id]);
          expect(await staleOf(store, [id, l2])).toEqual([]);
          await store.settled([{ id, lease: l2, settlement: outcome.succeeded(id) }]);
          expect(await store.get([id])).toEqual([null]);
          // Settled: the store knows nothing of it again.
          expect(await staleOf(store, [id, l1], [id, l2])).toEqual([]);
        });
      });
    });

    describe("bulk", () => {
      it("a batch goes through every outcome in one call each, stale ones left alone", async () => {
        await withStore(async (store) => {
          const jobs = Array.from({ length: 30 }, (_, i) => payload({ priority: i }));
          const first = jobs.map((p) => ({ id: p.id, lease: lease() }));
          await store.enqueued(jobs);
          await store.started(first);
          // Every sixth job was delivered again (its first lease ran out).
          const redelivered = jobs.filter((_, i) => i % 6 === 5);
          await store.started(redelivered.map((p) => ({ id: p.id, lease: lease() })));
          expect(await store.stale(first)).toEqual(new Set(redelivered.map((p) => p.id)));
          const next = new Date(Date.now() + HOUR);
          const settlements = jobs.map((p, i): Settlement => {
            switch (i % 6) {
              case 0:
                return outcome.succeeded(p.id, `r${i}`);
              case 1:
                return outcome.failed(p.id);
              case 2:
                return outcome.dead(p.id);
              case 3:
                return outcome.retry(p, next);
              case 4:
                return outcome.released(p.id);
              default:
                return outcome.succeeded(p.id, "stale");
            }
          });
          await store.settled(jobs.map((p, i) => ({ id: p.id, lease: first[i]!.lease, settlement: settlements[i]! })));
          const records = await store.get(jobs.map((p) => p.id));
          records.forEach((record, i) => {
            const expected = [
              { state: "succeeded", executions: 1, result: `r${i}` },
              { state: "failed", executions: 1, error: gone },
              { state: "dead", executions: 1, error: boom },
              { state: "retrying", executions: 1, error: boom, runAt: next },
              { state: "queued", executions: 0 },
              { state: "running", executions: 2 },
            ][i % 6];
            expect(record, `job ${i}`).toMatchObject({ id: jobs[i]!.id, priority: i, ...expected });
          });
        });
      });

      it("a job named twice in one call is changed twice, in order", async () => {
        await withStore(async (store) => {
          const p = payload();
          const [l1, l2] = [lease(), lease()];
          await store.enqueued([{ ...p, queue: "first" }, p]);
          expect(await statusOf(store, p.id)).toMatchObject({ queue: "reports" });
          await store.started([
            { id: p.id, lease: l1 },
            { id: p.id, lease: l2 },
          ]);
          expect(await statusOf(store, p.id)).toMatchObject({ state: "running", executions: 2 });
          expect(await staleOf(store, [p.id, l1])).toEqual([p.id]);
          await store.progress([
            { id: p.id, fraction: 0.1 },
            { id: p.id, fraction: 0.2, message: "second" },
          ]);
          expect((await statusOf(store, p.id)).progress).toEqual({ fraction: 0.2, message: "second" });
          await store.settled([
            { id: p.id, lease: l2, settlement: outcome.succeeded(p.id, "first") },
            { id: p.id, lease: l2, settlement: outcome.failed(p.id) },
          ]);
          expect(await statusOf(store, p.id)).toMatchObject({ state: "succeeded", result: "first" });
        });
      });

      it("empty batches do nothing", async () => {
        await withStore(async (store) => {
          await store.enqueued([]);
          await store.started([]);
          await store.settled([]);
          await store.progress([]);
          await store.delete([]);
          expect(await store.stale([])).toEqual(new Set());
          expect(await store.get([])).toEqual([]);
        });
      });
    });

    describe("progress, reads and deletes", () => {
      it("progress keeps the latest update of live jobs and ignores finished and unknown ones", async () => {
        await withStore(async (store) => {
          const [a, b] = [payload(), payload()];
          const [la, lb] = [lease(), lease()];
          await store.enqueued([a, b]);
          await store.started([{ id: a.id, lease: la }, { id: b.id, lease: lb }]);
          await store.progress([{ id: a.id, fraction: 0.25 }, { id: b.id, fraction: 0.5, message: "half" }]);
          expect((await statusOf(store, a.id)).progress).toEqual({ fraction: 0.25 });
          expect((await statusOf(store, b.id)).progress).toEqual({ fraction: 0.5, message: "half" });
          await store.progress([{ id: a.id, fraction: 0.75, message: "three quarters" }]);
          expect((await statusOf(store, a.id)).progress).toEqual({ fraction: 0.75, message: "three quarters" });
          await store.settled([{ id: a.id, lease: la, settlement: outcome.succeeded(a.id) }]);
          const unknown = uuidv7();
          await store.progress([{ id: a.id, fraction: 1, message: "late" }, { id: unknown, fraction: 0.5 }]);
          expect((await statusOf(store, a.id)).progress).toEqual({ fraction: 0.75, message: "three quarters" });
          expect(await store.get([unknown])).toEqual([null]);
        });
      });

      it("get answers in the order asked, with null for unknown ids and repeats for repeated ones", async () => {
        await withStore(async (store) => {
          const [a, b] = [payload({ job: "A" }), payload({ job: "B" })];
          await store.enqueued([a, b]);
          const records = await store.get([b.id, uuidv7(), a.id, "not-a-uuid", b.id]);
          expect(records.map((record) => record?.job ?? null)).toEqual(["B", null, "A", null, "B"]);
          expect(records[0]).toEqual(records[4]);
          expect(records[0]!.id).toBe(b.id);
        });
      });

      it("delete forgets jobs and their leases and leaves the others", async () => {
        await withStore(async (store) => {
          const [a, b] = [payload(), payload()];
          const [la, lb] = [lease(), lease()];
          await store.enqueued([a, b]);
          await store.started([{ id: a.id, lease: la }, { id: b.id, lease: lb }]);
          await store.settled([{ id: a.id, lease: la, settlement: outcome.dead(a.id) }]);
          await store.delete([a.id, uuidv7()]);
          expect(await store.get([a.id, b.id])).toEqual([null, expect.objectContaining({ id: b.id, state: "running" })]);
          expect(await staleOf(store, [a.id, la], [a.id, lease()])).toEqual([]);
          await store.delete([b.id]);
          expect(await staleOf(store, [b.id, lease()])).toEqual([]);
          expect(await store.get([b.id])).toEqual([null]);
          // A deleted id can be recorded again.
          await store.enqueued([a]);
          expect(await statusOf(store, a.id)).toMatchObject({ state: "queued", executions: 0 });
        });
      });
    });

    it.skipIf(!options.createWithTtl)("a finished status expires after finishedTtlMs; live ones stay", async () => {
      await withStore(
        async (store) => {
          const [finished, live] = [payload(), payload()];
          const [lf, ll] = [lease(), lease()];
          await store.enqueued([finished, live]);
          await store.started([{ id: finished.id, lease: lf }, { id: live.id, lease: ll }]);
          await store.settled([{ id: finished.id, lease: lf, settlement: outcome.succeeded(finished.id) }]);
          await waitFor(async () => (await store.get([finished.id]))[0] === null, { message: "finished status expired" });
          expect(await statusOf(store, live.id)).toMatchObject({ state: "running" });
          // Expired is unknown: its old lease is no longer stale.
          expect(await staleOf(store, [finished.id, lf])).toEqual([]);
        },
        () => options.createWithTtl!(1),
      );
    });
  });
}
