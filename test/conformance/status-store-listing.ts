/**
 * Conformance, status stores' operator side (`StatusStore.control`, core's
 * `adapter/status-store-control.ts`): listing statuses by state, queue and class, page by
 * page, with the bodies kept; by id; and the figures `listQueues` takes. The stores are called
 * directly, as the SQS adapter calls them. Registered by `statusStoreControlSuite`
 * (`status-store-marks.ts`).
 */
import { describe, expect, it } from "vitest";

import { ConfigError, type JobPayload, type JobState, type ListedJob, type StatusStore, type StatusStoreControl } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { HOUR, later, lease, outcome, payload, type WithStore } from "./status-store-harness.js";

/** The store's operator side, which the suite's stores must have. */
export function controlOf(store: StatusStore): StatusStoreControl {
  expect(store.control, "the store's operator side (StatusStore.control)").toBeDefined();
  return store.control!;
}

/** Every job of a listing, `limit` per page. */
export async function listAll(control: StatusStoreControl, state: JobState, filter: { queue?: string; job?: string } = {}, limit = 2): Promise<ListedJob[]> {
  const out: ListedJob[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages += 1) {
    const page = await control.list({ state, limit, ...filter, ...(cursor === undefined ? {} : { cursor }) });
    expect(page.jobs.length).toBeLessThanOrEqual(limit);
    out.push(...page.jobs);
    cursor = page.next;
    if (cursor === undefined) break;
  }
  return out;
}

const ids = (jobs: readonly { id: string }[]) => jobs.map((job) => job.id);

/** A payload due `agoMs` ago (distinct run times make the order unambiguous). */
function readySince(agoMs: number, overrides: Partial<JobPayload> = {}): JobPayload {
  return payload({ runAt: new Date(Date.now() - agoMs).toISOString(), ...overrides });
}

/** Enqueues, then starts (with a fresh lease each), the payloads; returns the leases by id. */
async function start(store: StatusStore, ...jobs: JobPayload[]): Promise<Map<string, string>> {
  const leases = new Map(jobs.map((job) => [job.id, lease()]));
  await store.started(jobs.map((job) => ({ id: job.id, lease: leases.get(job.id)! })));
  return leases;
}

/** Registers the listing cases. */
export function listingCases(withStore: WithStore): void {
  describe("operator's side: listing", () => {
    it("queued: by queue name, then runAt, then id, page by page; a due scheduled job among them; each with its body", async () => {
      await withStore(async (store) => {
        const b1 = readySince(5000, { queue: "b" });
        const a2 = readySince(2000, { queue: "a" });
        const a1 = readySince(3000, { queue: "a", job: "OtherJob" });
        const twin = { ...readySince(0, { queue: "a" }), runAt: a2.runAt };
        const due = payload({ queue: "a", runAt: later(300) });
        await store.enqueued([b1, a2, a1, twin, due]);
        // The scheduled job's time comes: it lists (and reads) as queued, by its runAt.
        await waitFor(() => Date.now() > Date.parse(due.runAt) + 5, { intervalMs: 5, message: "the scheduled job's time to come" });
        const [first, second] = [a2, twin].sort((x, y) => (x.id < y.id ? -1 : 1));
        const listed = await listAll(controlOf(store), "queued");
        expect(ids(listed)).toEqual(ids([a1, first!, second!, due, b1]));
        expect(listed.map((job) => job.state)).toEqual(["queued", "queued", "queued", "queued", "queued"]);
        for (const job of listed) expect(job.body).toBe(JSON.stringify([b1, a2, a1, twin, due].find((p) => p.id === job.id)));
        expect(await listAll(controlOf(store), "scheduled")).toEqual([]);
      });
    });

    it("scheduled and retrying: soonest first; running: by id; each filtered by queue, class or both", async () => {
      await withStore(async (store) => {
        const [late, soon] = [payload({ runAt: later(2 * HOUR) }), payload({ runAt: later(HOUR), queue: "mail", job: "MailJob" })];
        const [r1, r2, r3] = [readySince(3000), readySince(2000, { queue: "mail" }), readySince(1000, { job: "MailJob" })];
        await store.enqueued([late, soon, r1, r2, r3]);
        const leases = await start(store, r1, r2, r3);
        const control = controlOf(store);
        expect(ids(await listAll(control, "scheduled"))).toEqual(ids([soon, late]));
        expect(ids(await listAll(control, "scheduled", { queue: "mail" }))).toEqual([soon.id]);
        expect(ids(await listAll(control, "running"))).toEqual(ids([r1, r2, r3]));
        expect(ids(await listAll(control, "running", { job: "MailJob" }))).toEqual([r3.id]);
        expect(ids(await listAll(control, "running", { queue: "reports", job: "ReportJob" }))).toEqual([r1.id]);
        const retried = { ...r1, executions: 1, runAt: later(HOUR) };
        await store.settled([
          { id: r1.id, lease: leases.get(r1.id)!, settlement: outcome.retry(r1, new Date(Date.now() + 2 * HOUR)) },
          { id: r2.id, lease: leases.get(r2.id)!, settlement: outcome.retry(r2, new Date(Date.now() + HOUR)) },
        ]);
        const retrying = await listAll(control, "retrying");
        expect(ids(retrying)).toEqual(ids([r2, r1]));
        // The body is the retried payload core handed over.
        expect(JSON.parse(retrying[1]!.body!)).toMatchObject({ id: r1.id, executions: retried.executions });
        expect(ids(await listAll(control, "running"))).toEqual([r3.id]);
      });
    });

    it("succeeded, failed, dead: newest finished first; a succeeded job's body is dropped, a dead one's is the dead payload", async () => {
      await withStore(async (store) => {
        const jobs = [readySince(4000), readySince(3000), readySince(2000, { job: "MailJob" }), readySince(1000)];
        await store.enqueued(jobs);
        const leases = await start(store, ...jobs);
        for (const job of jobs.slice(0, 3)) {
          const at = Date.now();
          await store.settled([{ id: job.id, lease: leases.get(job.id)!, settlement: outcome.succeeded(job.id, "1") }]);
          await waitFor(() => Date.now() > at + 1, { intervalMs: 1, message: "the clock to move on" });
        }
        const deadPayload = { ...jobs[3]!, executions: 1 };
        await store.settled([{ id: jobs[3]!.id, lease: leases.get(jobs[3]!.id)!, settlement: { ...outcome.dead(jobs[3]!.id), payload: deadPayload } as never }]);
        const control = controlOf(store);
        const succeeded = await listAll(control, "succeeded");
        expect(ids(succeeded)).toEqual(ids(jobs.slice(0, 3).reverse()));
        expect(succeeded.every((job) => job.body === undefined && job.finishedAt instanceof Date)).toBe(true);
        expect(ids(await listAll(control, "succeeded", { job: "MailJob" }))).toEqual([jobs[2]!.id]);
        const [dead] = await listAll(control, "dead");
        expect(dead).toMatchObject({ id: jobs[3]!.id, state: "dead", error: { message: "boom" } });
        expect(JSON.parse(dead!.body!)).toEqual(deadPayload);
        expect(await listAll(control, "failed")).toEqual([]);
      });
    });

    it("by id: in the order given, any state, unknown ids left out, bodies while kept", async () => {
      await withStore(async (store) => {
        const [queued, running] = [readySince(2000), readySince(1000)];
        await store.enqueued([queued, running]);
        await start(store, running);
        const { jobs, next } = await controlOf(store).list({ ids: [running.id, "00000000-0000-4000-8000-000000000000", queued.id] });
        expect(next).toBeUndefined();
        expect(jobs.map((job) => [job.id, job.state, job.body])).toEqual([
          [running.id, "running", JSON.stringify(running)],
          [queued.id, "queued", JSON.stringify(queued)],
        ]);
        expect((await controlOf(store).list({ ids: [] })).jobs).toEqual([]);
      });
    });

    it("figures per queue: live counts (a due scheduled job is queued), finished counts, the oldest waiting job's runAt", async () => {
      await withStore(async (store) => {
        const [old, young, ahead, run, done, failed] = [readySince(9000), readySince(1000), payload({ runAt: later() }), readySince(500), readySince(400), readySince(300)];
        const other = readySince(100, { queue: "mail" });
        await store.enqueued([old, young, ahead, run, done, failed, other]);
        const leases = await start(store, run, done, failed);
        await store.settled([
          { id: done.id, lease: leases.get(done.id)!, settlement: outcome.succeeded(done.id) },
          { id: failed.id, lease: leases.get(failed.id)!, settlement: outcome.failed(failed.id) },
        ]);
        const figures = await controlOf(store).figures(["reports", "mail", "none"]);
        expect(figures).toEqual([
          { queue: "reports", queued: 2, scheduled: 1, running: 1, retrying: 0, succeeded: 1, failed: 1, dead: 0, oldestQueuedMs: Date.parse(old.runAt) },
          { queue: "mail", queued: 1, scheduled: 0, running: 0, retrying: 0, succeeded: 0, failed: 0, dead: 0, oldestQueuedMs: Date.parse(other.runAt) },
          { queue: "none", queued: 0, scheduled: 0, running: 0, retrying: 0, succeeded: 0, failed: 0, dead: 0 },
        ]);
      });
    });

    it("a deleted status leaves every listing; a bad cursor, or one of another listing, is a ConfigError", async () => {
      await withStore(async (store) => {
        const jobs = [readySince(3000), readySince(2000), readySince(1000)];
        await store.enqueued(jobs);
        await store.delete([jobs[1]!.id]);
        const control = controlOf(store);
        expect(ids(await listAll(control, "queued"))).toEqual(ids([jobs[0]!, jobs[2]!]));
        const { next } = await control.list({ state: "queued", limit: 1 });
        expect(next).toEqual(expect.any(String));
        await expect(control.list({ state: "queued", limit: 1, cursor: "not-a-cursor" })).rejects.toThrow(ConfigError);
        await expect(control.list({ state: "queued", queue: "mail", limit: 1, cursor: next! })).rejects.toThrow(/same state, queue and job/);
        await expect(control.list({ state: "queued", limit: 0 })).rejects.toThrow(/limit must be an integer/);
      });
    });
  });
}
