/**
 * Conformance: listing jobs (`capabilities.listJobs`, adapter/control.ts) — one state's jobs
 * in the documented order, filtered by queue and job class, a page at a time by cursor; jobs
 * by id in any state; and the counts `listQueues` adds (succeeded, failed, latency).
 */
import { describe, expect, it } from "vitest";

import { jobs, queues, UnsupportedError } from "@errand/core";
import type { JobState, ListedJob } from "@errand/core/adapter";

import { payload, reserve, withFixture, type AdapterWiring, type Fixture } from "./harness.js";
import { dueIn, idOf, readySince, retryAt, settleInTurn, store, take } from "./operator-harness.js";

/** Every job of one listing, page by page (`limit` per page); checks each page but the last has `next`. */
async function listAll(fixture: Fixture, state: JobState, limit = 50): Promise<ListedJob[]> {
  const listed: ListedJob[] = [];
  let cursor: string | undefined;
  do {
    const page = await fixture.client.listJobs({ state, limit, ...(cursor === undefined ? {} : { cursor }) });
    expect(page.jobs.length).toBeLessThanOrEqual(limit);
    listed.push(...page.jobs);
    cursor = page.next;
  } while (cursor !== undefined);
  return listed;
}

const ids = (listed: readonly { id: string }[]) => listed.map((job) => job.id);

export function listJobsSuite(wiring: AdapterWiring): void {
  const caps = wiring.capabilities;
  const delays = caps.maxDelayMs >= 3_600_000;

  describe.runIf(caps.listJobs)(`${wiring.name}: listing jobs [capability listJobs]`, () => {
    it("queued jobs: by queue name, then the order a reserve takes them (priority, then oldest); each with its body as enqueued", async () => {
      await withFixture(wiring, async (fixture) => {
        const low = caps.priorities ? 5 : 0;
        const [b1, aLow, a1, a2] = await store(
          fixture,
          readySince("list-b", 4000),
          readySince("list-a", 3000, { priority: low }),
          readySince("list-a", 2000),
          readySince("list-a", 1000),
        );
        const listed = await listAll(fixture, "queued");
        const expected = caps.priorities ? [a1!, a2!, aLow!, b1!] : [aLow!, a1!, a2!, b1!];
        expect(ids(listed)).toEqual(ids(expected));
        expect(listed.map((job) => job.state)).toEqual(["queued", "queued", "queued", "queued"]);
        expect(listed[0]).toMatchObject({ job: "RecordJob", queue: "list-a", executions: 0 });
        for (const job of listed) expect(JSON.parse(job.body!)).toEqual(expected.find((p) => p.id === job.id));
        // The operator's API parses the same body.
        const view = await jobs().get(a1!.id);
        expect(view?.payload).toEqual(a1);
        expect(view?.state).toBe("queued");
      });
    });

    it.runIf(delays)("scheduled jobs: soonest first, then by id", async () => {
      await withFixture(wiring, async (fixture) => {
        const [late, soon, mid] = [dueIn("default", 3_000_000), dueIn("default", 1_000_000), dueIn("default", 2_000_000)];
        const twin = { ...payload(), runAt: mid!.runAt };
        await store(fixture, late!, soon!, mid!, twin);
        const [first, second] = [mid!, twin].sort((a, b) => (a.id < b.id ? -1 : 1));
        const listed = await listAll(fixture, "scheduled");
        expect(ids(listed)).toEqual(ids([soon!, first!, second!, late!]));
        expect(listed.every((job) => job.state === "scheduled")).toBe(true);
        expect(listed[0]!.runAt.getTime()).toBe(Date.parse(soon!.runAt));
      });
    });

    it("retrying jobs: soonest retry first; running jobs: by id", async () => {
      await withFixture(wiring, async (fixture) => {
        await store(fixture, readySince("list-r", 3000), readySince("list-r", 2000), readySince("list-r", 1000));
        const [r1, r2, r3] = await take(fixture, "list-r", 3);
        await retryAt(fixture, r1!, new Date(Date.now() + 600_000));
        await retryAt(fixture, r2!, new Date(Date.now() + 300_000));
        const retrying = await listAll(fixture, "retrying");
        expect(ids(retrying)).toEqual([idOf(r2!), idOf(r1!)]);
        expect(retrying[0]).toMatchObject({ state: "retrying", executions: 1, error: { message: "it broke" } });
        expect(JSON.parse(retrying[0]!.body!).executions).toBe(1);

        await store(fixture, readySince("list-run", 2000), readySince("list-run", 1000));
        const more = await take(fixture, "list-run", 2);
        const runningIds = [idOf(r3!), ...more.map(idOf)].sort();
        const runningJobs = await listAll(fixture, "running");
        expect(ids(runningJobs)).toEqual(runningIds);
        expect(runningJobs.every((job) => job.state === "running" && job.startedAt instanceof Date)).toBe(true);
      });
    });

    for (const outcome of ["succeeded", "failed", "dead"] as const) {
      it(`${outcome} jobs: newest finished first`, async () => {
        await withFixture(wiring, async (fixture) => {
          await store(fixture, readySince("list-done", 3000), readySince("list-done", 2000), readySince("list-done", 1000));
          const taken = await take(fixture, "list-done", 3);
          await settleInTurn(fixture, taken, outcome);
          const listed = await listAll(fixture, outcome);
          expect(ids(listed)).toEqual(taken.map(idOf).reverse());
          expect(listed.every((job) => job.state === outcome && job.finishedAt instanceof Date)).toBe(true);
          if (outcome !== "succeeded") expect(listed[0]!.error).toMatchObject({ message: "it broke" });
          if (outcome === "dead") expect(JSON.parse(listed[0]!.body!).id).toBe(idOf(taken[2]!));
        });
      });
    }

    it("filters by queue and by job class, alone and together", async () => {
      await withFixture(wiring, async (fixture) => {
        const other = { job: "OtherJob" };
        const [a1, a2, b1, b2] = await store(
          fixture,
          readySince("filter-a", 4000),
          readySince("filter-a", 3000, other),
          readySince("filter-b", 2000),
          readySince("filter-b", 1000, other),
        );
        const list = async (filter: { queue?: string; job?: string }) => ids((await fixture.client.listJobs({ state: "queued", limit: 50, ...filter })).jobs);
        expect(await list({ queue: "filter-a" })).toEqual(ids([a1!, a2!]));
        expect(await list({ job: "OtherJob" })).toEqual(ids([a2!, b2!]));
        expect(await list({ queue: "filter-b", job: "RecordJob" })).toEqual(ids([b1!]));
        expect(await list({ queue: "filter-none" })).toEqual([]);
        const page = await jobs().list({ state: "queued", queue: "filter-b", job: "OtherJob" });
        expect(page.jobs.map((job) => job.payload?.id)).toEqual([b2!.id]);
        expect(page.next).toBeUndefined();
      });
    });

    it("pages by cursor: limit 2 over 5 jobs lists every job once, none skipped, and the last page has no next", async () => {
      await withFixture(wiring, async (fixture) => {
        const stored = await store(fixture, ...[5000, 4000, 3000, 2000, 1000].map((ago) => readySince("pages", ago)));
        const pages: string[][] = [];
        let cursor: string | undefined;
        do {
          const page = await jobs().list({ state: "queued", queue: "pages", limit: 2, ...(cursor === undefined ? {} : { cursor }) });
          pages.push(page.jobs.map((job) => job.id));
          cursor = page.next;
        } while (cursor !== undefined && pages.length < 10);
        expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
        expect(pages.flat()).toEqual(ids(stored));
      });
    });

    it("pages by cursor while jobs leave the state: those that stay are each listed once, none skipped", async () => {
      await withFixture(wiring, async (fixture) => {
        const stored = await store(fixture, ...[6000, 5000, 4000, 3000, 2000, 1000].map((ago) => readySince("moving", ago)));
        const first = await fixture.client.listJobs({ state: "queued", queue: "moving", limit: 2 });
        expect(ids(first.jobs)).toEqual(ids(stored.slice(0, 2)));
        // The two listed leave the state (a worker took them) before the next page is read.
        expect((await take(fixture, "moving", 2)).map(idOf).sort()).toEqual(ids(stored.slice(0, 2)).sort());
        const rest: string[] = [];
        let cursor = first.next;
        while (cursor !== undefined) {
          const page = await fixture.client.listJobs({ state: "queued", queue: "moving", limit: 2, cursor });
          rest.push(...ids(page.jobs));
          cursor = page.next;
        }
        expect(rest).toEqual(ids(stored.slice(2)));
      });
    });

    it("looks jobs up by id in any state, in the order given, dead included and unknown ids left out", async () => {
      await withFixture(wiring, async (fixture) => {
        const [queued] = await store(fixture, readySince("ids-q", 1000));
        await store(fixture, readySince("ids-run", 3000), readySince("ids-done", 2000), readySince("ids-dead", 1000));
        const [runningJob] = await take(fixture, "ids-run", 1);
        await settleInTurn(fixture, await take(fixture, "ids-done", 1), "succeeded");
        const [dying] = await take(fixture, "ids-dead", 1);
        await settleInTurn(fixture, [dying!], "dead");
        const scheduled = delays ? (await store(fixture, dueIn("ids-s", 3_600_000)))[0] : undefined;
        const succeededId = (await listAll(fixture, "succeeded"))[0]!.id;
        const unknown = "00000000-0000-4000-8000-000000000000";
        const wanted = [idOf(dying!), unknown, queued!.id, idOf(runningJob!), ...(scheduled ? [scheduled.id] : []), succeededId];
        const { jobs: found, next } = await fixture.client.listJobs({ ids: wanted });
        expect(next).toBeUndefined();
        expect(ids(found)).toEqual(wanted.filter((id) => id !== unknown));
        expect(found.map((job) => job.state)).toEqual(["dead", "queued", "running", ...(scheduled ? ["scheduled"] : []), "succeeded"]);
        expect(JSON.parse(found[0]!.body!).id).toBe(idOf(dying!));
        expect(JSON.parse(found[1]!.body!)).toEqual(queued);
        expect(await jobs().get(unknown)).toBeNull();
        expect((await jobs().get(idOf(dying!)))?.state).toBe("dead");
      });
    });

    it("listQueues counts succeeded and failed jobs kept, and the latency of the oldest queued job", async () => {
      await withFixture(wiring, async (fixture) => {
        await store(fixture, readySince("counted", 9000), readySince("counted", 8000), readySince("counted", 7000));
        const taken = await take(fixture, "counted", 3);
        await settleInTurn(fixture, taken.slice(0, 2), "succeeded");
        await settleInTurn(fixture, taken.slice(2), "failed");
        await store(fixture, readySince("counted", 5000), readySince("counted", 1000), readySince("idle", 60_000));
        await take(fixture, "idle", 1);
        const infos = await queues().list();
        expect(infos.find((info) => info.name === "counted")).toMatchObject({ queued: 2, succeeded: 2, failed: 1 });
        const latency = infos.find((info) => info.name === "counted")!.latencyMs!;
        // The oldest queued job became due 5 s before it was stored: its age, with room for a slow machine.
        expect(latency).toBeGreaterThanOrEqual(5000);
        expect(latency).toBeLessThan(5000 + 30_000);
        // Nothing queued: no latency, whatever runs.
        expect(infos.find((info) => info.name === "idle")).toMatchObject({ queued: 0, running: 1, latencyMs: 0 });
      });
    });
  });

  describe.skipIf(caps.listJobs)(`${wiring.name}: listing jobs [no capability listJobs]`, () => {
    it("listJobs and the operator's jobs() are refused with UnsupportedError naming the capability", async () => {
      await withFixture(wiring, async (fixture) => {
        await expect(fixture.client.listJobs({ state: "queued", limit: 10 })).rejects.toThrow(UnsupportedError);
        await expect(fixture.client.listJobs({ ids: [] })).rejects.toThrow(/capability listJobs/);
        await expect(jobs().list({ state: "dead" })).rejects.toThrow(/capability listJobs/);
        await expect(jobs().get("00000000-0000-4000-8000-000000000000")).rejects.toThrow(UnsupportedError);
        // Nothing was stored or taken meanwhile.
        expect(await reserve(fixture.adapter)).toEqual([]);
      });
    });
  });
}
