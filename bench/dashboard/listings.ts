/**
 * The reads an operator's pages make of an adapter (its `listQueues` and `listJobs`), timed
 * the same way for every backend that implements them (redis.ts, postgres.ts), so their
 * figures line up name by name in the results JSON.
 */
import type { JobPage, ListJobsOptions, ListQueuesOptions, QueueInfo } from "@errand/core/adapter";

import { PAGE } from "./shape.js";
import { cursorAt, listed, time, walkAll, type Listed, type StateListing, type Timing } from "./timing.js";

/** What {@link timeListings} reads: an adapter with `capabilities.listJobs`. */
export interface Listable {
  listQueues(options: ListQueuesOptions): Promise<QueueInfo[]>;
  listJobs(options: ListJobsOptions): Promise<JobPage>;
}

/** One walk of every page of a listing (see {@link walkAll}). */
export type Walk = Awaited<ReturnType<typeof walkAll>>;

/**
 * Times the overview, then each listing's first page (and a deep page by cursor: the last
 * full page of queue mail's dead jobs, page 200 of the succeeded ones), then 50 jobs by id,
 * `runs` calls each after a warm-up; then walks three listings to their end. `extra` figures
 * are timed right after the overview. Prints each figure as it goes.
 */
export async function timeListings(adapter: Listable, runs: number, extra: Record<string, () => Promise<Listed>> = {}): Promise<{ timings: Timing[]; walks: Record<string, Walk> }> {
  const list = async (options: ListJobsOptions) => listed(await adapter.listJobs(options));
  const listJobs = (options: StateListing) => adapter.listJobs(options);
  const timings: Timing[] = [];
  const t = async (name: string, call: () => Promise<Listed>) => timings.push(await time(name, runs, call));
  await t("overview: listQueues, throughput 60 min", async () => ({ jobs: (await adapter.listQueues({ throughputMinutes: 60 })).length, next: false }));
  for (const [name, call] of Object.entries(extra)) await t(name, call);
  const dead = { state: "dead", queue: "mail", limit: PAGE } as const;
  await t("dead of one queue, first page", () => list(dead));
  // At least page 1: below 50 dead jobs in mail (a --scale under 0.025) there is no full page.
  const deadPages = Math.max(1, Math.floor((await adapter.listQueues({})).find((q) => q.name === "mail")!.dead / PAGE));
  const deadDeep = await cursorAt(listJobs, dead, deadPages);
  await t(`dead of one queue, page ${deadPages} by cursor`, () => list(deadDeep === undefined ? dead : { ...dead, cursor: deadDeep }));
  await t("dead, every queue, first page", () => list({ state: "dead", limit: PAGE }));
  await t("queued of class MailJob (30 %), first page", () => list({ state: "queued", job: "MailJob", limit: PAGE }));
  await t("queued of class AuditJob (1 %), first page", () => list({ state: "queued", job: "AuditJob", limit: PAGE }));
  await t("queued of one queue, first page", () => list({ state: "queued", queue: "reports", limit: PAGE }));
  const succeeded = { state: "succeeded", limit: PAGE } as const;
  await t("succeeded newest first, first page", () => list(succeeded));
  const deep = await cursorAt(listJobs, succeeded, 200);
  await t("succeeded newest first, page 200 by cursor", () => list(deep === undefined ? succeeded : { ...succeeded, cursor: deep }));
  await t("succeeded of class AuditJob (1 %), first page", () => list({ state: "succeeded", job: "AuditJob", limit: PAGE }));
  await t("scheduled soonest first, first page", () => list({ state: "scheduled", limit: PAGE }));
  await t("retrying soonest first, first page", () => list({ state: "retrying", limit: PAGE }));
  await t("running by id, first page", () => list({ state: "running", limit: PAGE }));
  const someIds = (await adapter.listJobs({ state: "dead", limit: PAGE })).jobs.map((j) => j.id);
  await t("50 jobs by id", () => list({ ids: someIds }));
  const walks = {
    "queued of class AuditJob, every page": await walkAll(listJobs, { state: "queued", job: "AuditJob", limit: PAGE }),
    "succeeded of class AuditJob in queue audit, every page": await walkAll(listJobs, { state: "succeeded", queue: "audit", job: "AuditJob", limit: PAGE }),
    "succeeded of a class no job has, in queue mail (the whole list), every page": await walkAll(listJobs, { state: "succeeded", queue: "mail", job: "NoSuchJob", limit: PAGE }),
  };
  for (const [name, walk] of Object.entries(walks)) process.stdout.write(`  ${name}: ${JSON.stringify(walk)}\n`);
  return { timings, walks };
}
