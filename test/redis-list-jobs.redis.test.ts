// listJobs on Redis while the sets it walks change under it: what the portable areas cannot
// arrange. Ready lists popped by workers between pages, a zset cursor whose entry left
// (jobs sharing one runAt: the binary search among equal scores), finished lists trimmed by
// retention and growing at the tail, and a job-class filter past the walk's budget (a page
// of nothing with a cursor that goes on). Some cases put state in place with raw commands
// (scores, dead entries), which only the keys allow.
import { afterAll, describe, expect, it } from "vitest";

import { RedisAdapter } from "@errand/adapter-redis";
import type { JobPage, JobState, ListJobsOptions, Reservation } from "@errand/core/adapter";

import { payload } from "./conformance/harness.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";

const url = redisUrl();
const prefixes: string[] = [];
const opened: RedisAdapter[] = [];
afterAll(async () => {
  await Promise.all(opened.map((adapter) => adapter.close()));
  await dropPrefixes(url, prefixes);
});

function open(options: { maxFinished?: number } = {}): RedisAdapter {
  const prefix = redisPrefix();
  prefixes.push(prefix);
  const adapter = new RedisAdapter({ url, prefix, pollMs: 50, ...options });
  opened.push(adapter);
  return adapter;
}

function reserve(adapter: RedisAdapter, max: number, queues = ["default"]): Promise<Reservation[]> {
  return adapter.reserve({ queues, max, leaseMs: 30_000, waitMs: 0, workerId: "list-test" });
}

/** Every page of a listing; `between` runs after each page. */
async function allPages(adapter: RedisAdapter, options: Extract<ListJobsOptions, { state: JobState }>, between?: (page: JobPage) => Promise<void>, most = 100): Promise<JobPage[]> {
  const pages: JobPage[] = [];
  let cursor: string | undefined;
  do {
    const page = await adapter.listJobs(cursor === undefined ? options : { ...options, cursor });
    pages.push(page);
    cursor = page.next;
    if (between) await between(page);
  } while (cursor !== undefined && pages.length < most);
  return pages;
}

const idsOf = (pages: JobPage[]) => pages.flatMap((page) => page.jobs.map((job) => job.id));

describe("redis listJobs under change", () => {
  it("queued: a job that stays queued while workers pop the head is listed once, none skipped", async () => {
    const adapter = open();
    const jobs = Array.from({ length: 30 }, (_, i) => payload({ priority: i % 3 === 0 ? 1 : 0 }));
    await adapter.enqueue({ jobs });
    const taken = new Set<string>();
    const pages = await allPages(adapter, { state: "queued", limit: 4 }, async () => {
      for (const r of await reserve(adapter, 2)) taken.add(r.providerJobId);
    });
    const listed = idsOf(pages);
    expect(new Set(listed).size).toBe(listed.length);
    const stayed = jobs.map((job) => job.id).filter((id) => !taken.has(id));
    expect(listed).toEqual(expect.arrayContaining(stayed));
    // In reserve order: priority 0 before 1, oldest first within each.
    const order = [...jobs.filter((j) => j.priority === 0), ...jobs.filter((j) => j.priority === 1)].map((j) => j.id);
    expect(listed).toEqual(order.filter((id) => listed.includes(id)));
  });

  it("scheduled: jobs sharing one runAt page by id; a cursor whose job left goes on after it", async () => {
    const adapter = open();
    const runAt = new Date(Date.now() + 3_600_000).toISOString();
    const jobs = Array.from({ length: 20 }, () => payload({ runAt }));
    await adapter.enqueue({ jobs });
    const sorted = jobs.map((job) => job.id).sort();
    const pages = await allPages(adapter, { state: "scheduled", limit: 6 }, async (page) => {
      // The last job of the page is cancelled: the next page must find its place without it.
      const last = page.jobs[page.jobs.length - 1];
      if (last) await adapter.changeJobs({ action: "cancel", ids: [last.id] });
    });
    expect(idsOf(pages)).toEqual(sorted);
  });

  it("dead, over two queues: newest first, ties by id, merged page by page", async () => {
    const adapter = open();
    const jobs = Array.from({ length: 9 }, (_, i) => payload({ queue: i % 2 === 0 ? "a" : "b" }));
    await adapter.enqueue({ jobs });
    const leased = await reserve(adapter, 20, ["a", "b"]);
    await adapter.settle({ settlements: leased.map((reservation) => ({ reservation, outcome: "dead" as const, error: { name: "E", message: "x" } })) });
    // Deaths at three times, three each, across both queues.
    const at = (i: number) => 1_000_000 + Math.floor(i / 3) * 1000;
    for (const [i, job] of jobs.entries()) await adapter.client.zadd(adapter.keys.queue(job.queue).dead, at(i), job.id);
    const expected = jobs.map((job, i) => ({ id: job.id, t: at(i) })).sort((x, y) => y.t - x.t || (x.id < y.id ? 1 : -1)).map((x) => x.id);
    expect(idsOf(await allPages(adapter, { state: "dead", limit: 2 }))).toEqual(expected);
    expect(idsOf(await allPages(adapter, { state: "dead", limit: 500 }))).toEqual(expected);
    expect(idsOf(await allPages(adapter, { state: "dead", queue: "b", limit: 2 }))).toEqual(expected.filter((id) => jobs.find((j) => j.id === id)!.queue === "b"));
  });

  it("succeeded: newest first over two queues; jobs that finish later stay out, retention ends a queue's walk", async () => {
    const adapter = open({ maxFinished: 5 });
    const jobs = Array.from({ length: 10 }, (_, i) => payload({ queue: i % 2 === 0 ? "a" : "b" }));
    await adapter.enqueue({ jobs });
    for (const job of jobs) {
      const [r] = await reserve(adapter, 1, [job.queue]);
      await adapter.settle({ settlements: [{ reservation: r!, outcome: "succeeded" }] });
    }
    let round = 0;
    const pages = await allPages(adapter, { state: "succeeded", limit: 3 }, async () => {
      round += 1;
      if (round !== 1) return;
      // After the first page, two more finish in queue a: retention drops a's two oldest, and
      // the new ones came after the walk began.
      const more = [payload({ queue: "a" }), payload({ queue: "a" })];
      await adapter.enqueue({ jobs: more });
      const leased = await reserve(adapter, 2, ["a"]);
      await adapter.settle({ settlements: leased.map((reservation) => ({ reservation, outcome: "succeeded" as const })) });
    });
    const listed = pages.flatMap((page) => page.jobs);
    expect(new Set(listed.map((job) => job.id)).size).toBe(listed.length);
    // Newest first; jobs that finished in the same millisecond by queue name.
    for (let i = 1; i < listed.length; i += 1) {
      const [before, after] = [listed[i - 1]!, listed[i]!];
      expect(before.finishedAt!.getTime() > after.finishedAt!.getTime() || (before.finishedAt!.getTime() === after.finishedAt!.getTime() && before.queue <= after.queue)).toBe(true);
    }
    // Every job of b (none trimmed) and a's three newest; nothing that finished after the first page.
    const ids = listed.map((job) => job.id);
    const inA = jobs.filter((job) => job.queue === "a").map((job) => job.id);
    expect(ids).toEqual(expect.arrayContaining([...jobs.filter((job) => job.queue === "b").map((job) => job.id), ...inA.slice(2)]));
    expect(jobs.map((job) => job.id)).toEqual(expect.arrayContaining(ids));
  });

  it("a job-class filter stops at the walk's budget with a page of nothing and a cursor that goes on", async () => {
    const adapter = open();
    const filler = Array.from({ length: 20_500 }, () => payload({ job: "FillerJob" }));
    const wanted = payload({ job: "WantedJob" });
    await adapter.enqueue({ jobs: [...filler, wanted] });
    // 20,000 entries or 25 ms per call, whichever comes first: the match is behind both (on
    // a starved server, 25 ms may be a few hundred entries: up to 2,000 calls allowed).
    const pages = await allPages(adapter, { state: "queued", job: "WantedJob", limit: 10 }, undefined, 2_000);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.slice(0, -1).every((page) => page.jobs.length === 0 && page.next !== undefined)).toBe(true);
    const last = pages[pages.length - 1]!;
    expect(last.jobs.map((job) => [job.id, job.job])).toEqual([[wanted.id, "WantedJob"]]);
    expect(JSON.parse(last.jobs[0]!.body!)).toEqual(wanted);
  });

  it("running by id over queues; by ids in any queue and state, in the order given; cursors checked", async () => {
    const adapter = open();
    const jobs = Array.from({ length: 6 }, (_, i) => payload({ queue: i < 3 ? "a" : "b" }));
    await adapter.enqueue({ jobs });
    await reserve(adapter, 10, ["a", "b"]);
    const sorted = jobs.map((job) => job.id).sort();
    expect(idsOf(await allPages(adapter, { state: "running", limit: 4 }))).toEqual(sorted);
    const byIds = await adapter.listJobs({ ids: [jobs[4]!.id, "unknown", jobs[0]!.id] });
    expect(byIds.jobs.map((job) => [job.id, job.queue, job.state])).toEqual([[jobs[4]!.id, "b", "running"], [jobs[0]!.id, "a", "running"]]);
    expect(JSON.parse(byIds.jobs[0]!.body!)).toEqual(jobs[4]);
    const page = await adapter.listJobs({ state: "running", limit: 1 });
    await expect(adapter.listJobs({ state: "queued", limit: 1, cursor: page.next! })).rejects.toThrow(/cursor was made for state "running"/);
    await expect(adapter.listJobs({ state: "running", limit: 1, cursor: "garbage" })).rejects.toThrow(/not a cursor this adapter gave/);
    await expect(adapter.listJobs({ state: "running", limit: 0 })).rejects.toThrow(/limit must be an integer from 1 to 500/);
  });
});
