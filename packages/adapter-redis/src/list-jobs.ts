/**
 * The Redis adapter's `listJobs`: pages of one state's jobs, or jobs by id.
 *
 * A page of one queue is one `list-jobs.lua` call on the queue's slot: it walks the state's
 * own set in its order (list-lib.lua) from the cursor's place and hands back the records of
 * the jobs it gives. Without a queue, the queues are walked one after the other by name
 * (`queued`, as the contract orders it) or side by side and merged (every other state: one
 * call per queue, sent at once).
 *
 * A filter by job class cannot use an index (none is kept: it would cost every enqueue and
 * settle): a call looks at `BUDGET` entries and walks `WALK_MS` at most, reading their
 * records, and a page may then hold fewer jobs than asked, or none, with a `next` cursor that
 * goes on from the last entry looked at. A caller that wants `limit` matches asks again. Merged walks
 * give only the jobs no queue could still put before them (the watermark: the nearest
 * frontier of the walks that did not end), so the order holds across pages.
 *
 * @module
 */
import { ConfigError, MAX_LIST_LIMIT, type JobPage, type JobState, type ListedJob, type ListJobsOptions } from "@errand/core/adapter";
import type { Cluster, Redis } from "ioredis";

import type { KeyLayout } from "./keys.js";
import { decodeCursor, encodeCursor, type Listing, type Position } from "./list-cursor.js";
import { bodyOf, readJobs, type Lookup } from "./lookup.js";
import { runScript } from "./scripts.js";
import { toRecord } from "./status-hash.js";

/**
 * Entries one listJobs call looks at, at most, over all its queues (each merged queue gets
 * its share, at least `limit`). Only a filter by job class makes a walk look at entries it
 * does not give: ~1.5 µs each with 1M jobs stored (HGET on a 1M-field hash, the class's bytes
 * searched in the packed record), so 20,000 take ~30 ms (bench/dashboard/redis.ts: a class
 * of 1 % over 900k succeeded jobs, 29–40 ms per call), well under the 200 ms a page may take
 * on a loaded machine, and a rare class over a 360k-job list is walked in 18 calls.
 */
export const BUDGET = 20_000;

/**
 * Most ms one listJobs call walks (over all its queues; each merged queue gets its share,
 * at least 5 ms): a script blocks the server while it runs. On the loaded machine (load 8–10
 * on 2 cores), 20,000 entries took 120–170 ms instead of ~30.
 */
export const WALK_MS = 25;

const STATES: readonly JobState[] = ["queued", "scheduled", "running", "retrying", "succeeded", "failed", "dead"];

/** A job a walk gave. */
interface Entry {
  queue: string;
  id: string;
  /** Its sort key: score (zsets), id (running), finish ms (finished lists), index (ready lists). */
  key: string;
  /** Its index in a list, "" in a zset. */
  index: string;
  /** Its record's fields (job_fields in job-lib.lua); empty until read, for a merged walk. */
  fields: Record<string, string>;
}

/** One `list-jobs.lua` call's answer. */
interface Walk {
  queue: string;
  ended: boolean;
  frontier: string[];
  entries: Entry[];
  spent: number;
}

type Reply = [number, (string | number)[], (string | number | string[])[], number];

function toFields(pairs: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let f = 0; f < pairs.length; f += 2) fields[pairs[f]!] = pairs[f + 1]!;
  return fields;
}

function checkOptions(options: ListJobsOptions): void {
  const allowed = "ids" in options ? ["ids"] : ["state", "queue", "job", "cursor", "limit"];
  for (const key of Object.keys(options)) if (!allowed.includes(key)) throw new ConfigError(`redis adapter: listJobs has no option ${JSON.stringify(key)}${"ids" in options ? " beside ids" : ""}`);
  if ("ids" in options) {
    if (!Array.isArray(options.ids) || options.ids.some((id) => typeof id !== "string")) throw new ConfigError("redis adapter: listJobs ids must be an array of strings");
    return;
  }
  if (!STATES.includes(options.state)) throw new ConfigError(`redis adapter: listJobs state must be one of ${STATES.join(", ")}, got ${JSON.stringify(options.state)}`);
  if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > MAX_LIST_LIMIT) {
    throw new ConfigError(`redis adapter: listJobs limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${JSON.stringify(options.limit)}`);
  }
  for (const key of ["queue", "job", "cursor"] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== "string" || value === "")) throw new ConfigError(`redis adapter: listJobs ${key} must be a non-empty string`);
  }
}

/** Orders keys of the ordered states: by score then id (zsets), or by id (running); `dir` -1 for newest first. */
function comparer(state: JobState): (a: string[], b: string[]) => number {
  const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  if (state === "running") return (a, b) => byId(a[0]!, b[0]!);
  const dir = state === "dead" ? -1 : 1;
  return (a, b) => dir * (Number(a[0]) - Number(b[0]) || byId(a[1]!, b[1]!));
}

/** Listing jobs of one Redis adapter. */
export class JobLister {
  constructor(
    private readonly client: Redis | Cluster,
    private readonly keys: KeyLayout,
    private readonly lookup: Lookup,
  ) {}

  /** A page of one state's jobs, or jobs by id (list-jobs.ts's header). */
  async list(options: ListJobsOptions): Promise<JobPage> {
    checkOptions(options);
    if ("ids" in options) return { jobs: await this.byIds(options.ids) };
    const listing: Listing = { state: options.state, ...(options.queue === undefined ? {} : { queue: options.queue }), ...(options.job === undefined ? {} : { job: options.job }) };
    const position = options.cursor === undefined ? undefined : decodeCursor(listing, options.cursor);
    const queues = options.queue === undefined ? await this.lookup.knownQueues() : [options.queue];
    let page: { entries: Entry[]; next?: Position };
    if (options.state === "queued") page = await this.queued(listing, queues, options.limit, position);
    else if (options.state === "succeeded" || options.state === "failed") page = await this.finished(listing, queues, options.limit, position);
    else page = await this.ordered(listing, queues, options.limit, position);
    const jobs = this.toListed(page.entries, options.state);
    return page.next === undefined ? { jobs } : { jobs, next: encodeCursor(listing, page.next) };
  }

  private async byIds(ids: readonly string[]): Promise<ListedJob[]> {
    const unique = [...new Set(ids)];
    const found = await this.lookup.findJobs(unique);
    const now = Date.now();
    return unique.flatMap((id) => {
      const job = found.get(id);
      const record = job && toRecord(id, job.fields, now, job.queue);
      if (!job || !record) return [];
      const body = bodyOf(id, job);
      return [body === undefined ? record : { ...record, body }];
    });
  }

  /** One walk of `queue` (list-jobs.lua); `fields`: with the records of the jobs given. */
  private async walk(queue: string, listing: Listing, limit: number, budget: number, from: readonly string[], fields = true, ms = WALK_MS): Promise<Walk> {
    const k = this.keys.queue(queue);
    const at = [0, 1, 2, 3].map((i) => from[i] ?? "");
    const [ended, frontier, flat, spent] = await runScript<Reply>(
      this.client,
      "list-jobs",
      [k.prios, k.scheduled, k.retrying, k.active, k.dead, k.done, k.failed, k.parked, k.deferred],
      [k.jobs, listing.state, limit, budget, listing.job ?? "", ...at, fields ? "1" : "", Math.max(5, Math.round(ms))],
    );
    const entries: Entry[] = [];
    for (let i = 0; i < flat.length; i += 4) {
      const pairs = flat[i + 3];
      entries.push({ queue, id: String(flat[i]), key: String(flat[i + 1]), index: String(flat[i + 2]), fields: Array.isArray(pairs) ? toFields(pairs) : {} });
    }
    return { queue, ended: ended === 1, frontier: frontier.map(String), entries, spent };
  }

  /** Queued jobs: queue after queue by name, each in the order a reserve takes them. */
  private async queued(listing: Listing, queues: readonly string[], limit: number, position: Position | undefined): Promise<{ entries: Entry[]; next?: Position }> {
    const start = position?.kind === "queued" ? position : undefined;
    let q = start ? queues.findIndex((name) => name >= start.queue) : 0;
    if (q < 0) return { entries: [] };
    let from: string[] = start && queues[q] === start.queue ? start.at : [];
    const entries: Entry[] = [];
    let budget = BUDGET;
    const until = Date.now() + WALK_MS;
    while (q < queues.length && entries.length < limit && budget > 0 && (from.length > 0 || entries.length === 0 || Date.now() < until)) {
      const walk = await this.walk(queues[q]!, listing, limit - entries.length, budget, from, true, until - Date.now());
      entries.push(...walk.entries);
      budget -= walk.spent;
      if (!walk.ended) return { entries, next: { kind: "queued", queue: queues[q]!, at: walk.frontier } };
      q += 1;
      from = [];
    }
    return q < queues.length ? { entries, next: { kind: "queued", queue: queues[q]!, at: [] } } : { entries };
  }

  /** Scheduled, retrying, dead and running jobs: one order over every queue, merged. */
  private async ordered(listing: Listing, queues: readonly string[], limit: number, position: Position | undefined): Promise<{ entries: Entry[]; next?: Position }> {
    const from = position?.kind === "ordered" ? position.at : [];
    const share = Math.max(limit, Math.floor(BUDGET / Math.max(1, queues.length)));
    const walks = await Promise.all(queues.map((queue) => this.walk(queue, listing, limit, share, from, queues.length === 1, WALK_MS / queues.length)));
    const cmp = comparer(listing.state);
    const keyOf = (entry: Entry) => (listing.state === "running" ? [entry.id] : [entry.key, entry.id]);
    const open = walks.filter((walk) => !walk.ended).map((walk) => (listing.state === "running" ? walk.frontier.slice(0, 1) : walk.frontier.slice(0, 2)));
    // The watermark: no walk that did not end can give anything before it.
    const mark = open.length === 0 ? undefined : open.reduce((a, b) => (cmp(a, b) <= 0 ? a : b));
    const all = walks.flatMap((walk) => walk.entries).sort((a, b) => cmp(keyOf(a), keyOf(b)));
    const taken: Entry[] = [];
    for (const entry of all) {
      if (taken.length >= limit || (mark && cmp(keyOf(entry), mark) > 0)) break;
      taken.push(entry);
    }
    if (queues.length > 1) await this.readFields(taken);
    if (taken.length === limit && (open.length > 0 || all.length > limit)) return { entries: taken, next: { kind: "ordered", at: keyOf(taken[taken.length - 1]!) } };
    if (mark) return { entries: taken, next: { kind: "ordered", at: mark } };
    return { entries: taken };
  }

  /**
   * Succeeded and failed jobs: each queue's finished list from its tail, merged newest first
   * (by finish time; ties by queue name). The cursor keeps each queue's own place: the
   * lists have no key that orders them all, only their finish times, which equal ones share.
   */
  private async finished(listing: Listing, queues: readonly string[], limit: number, position: Position | undefined): Promise<{ entries: Entry[]; next?: Position }> {
    const places: Record<string, string[] | 0> = position?.kind === "finished" ? position.at : Object.fromEntries(queues.map((queue) => [queue, []]));
    const open = Object.entries(places).filter((entry): entry is [string, string[]] => entry[1] !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const share = Math.max(limit, Math.floor(BUDGET / Math.max(1, open.length)));
    const walks = await Promise.all(open.map(([queue, at]) => this.walk(queue, listing, limit, share, at, open.length === 1, WALK_MS / open.length)));
    // Unseen jobs of a walk that did not end finished no later than its frontier (or any time, when that is unknown).
    const mark = Math.max(-Infinity, ...walks.filter((walk) => !walk.ended).map((walk) => (walk.frontier[3] === "" ? Infinity : Number(walk.frontier[3]))));
    const heads = walks.map(() => 0);
    const taken: Entry[] = [];
    while (taken.length < limit) {
      let best = -1;
      walks.forEach((walk, w) => {
        const head = walk.entries[heads[w]!];
        if (head && (best < 0 || Number(head.key) > Number(walks[best]!.entries[heads[best]!]!.key))) best = w;
      });
      if (best < 0) break;
      const entry = walks[best]!.entries[heads[best]!]!;
      if (Number(entry.key) < mark) break;
      taken.push(entry);
      heads[best]! += 1;
    }
    const next: Record<string, string[] | 0> = { ...places };
    walks.forEach((walk, w) => {
      const used = heads[w]!;
      const bound = walk.frontier[2]!;
      if (used === walk.entries.length) next[walk.queue] = walk.ended ? 0 : walk.frontier.slice(0, 3);
      else if (used > 0) next[walk.queue] = [walk.entries[used - 1]!.id, walk.entries[used - 1]!.index, bound];
      else next[walk.queue] = [...(open[w]![1].length > 0 ? open[w]![1].slice(0, 2) : ["", ""]), bound];
    });
    if (open.length > 1) await this.readFields(taken);
    const more = Object.values(next).some((place) => place !== 0);
    return more ? { entries: taken, next: { kind: "finished", at: next } } : { entries: taken };
  }

  /**
   * Reads the records of jobs a merged walk kept (one job-read.lua per queue, sent at once):
   * a merge of 6 queues keeps 50 of up to 300 jobs given, and their records were most of
   * what the walks sent back (bench/dashboard/redis.ts).
   */
  private async readFields(entries: readonly Entry[]): Promise<void> {
    const byQueue = new Map<string, Entry[]>();
    for (const entry of entries) byQueue.set(entry.queue, [...(byQueue.get(entry.queue) ?? []), entry]);
    await Promise.all(
      [...byQueue].map(async ([queue, group]) => {
        const records = await readJobs(this.client, this.keys.queue(queue).jobs, group.map((entry) => entry.id));
        group.forEach((entry, i) => (entry.fields = records[i] ?? {}));
      }),
    );
  }

  /** The jobs given as listed jobs; a job whose record left the state in between is left out. */
  private toListed(entries: readonly Entry[], state: JobState): ListedJob[] {
    const now = Date.now();
    return entries.flatMap((entry) => {
      const record = toRecord(entry.id, entry.fields, now, entry.queue);
      // A retry whose time came waits in its ready list with the queued jobs (and counts as
      // queued), its status still retrying.
      if (!record || (record.state !== state && !(state === "queued" && record.state === "retrying"))) return [];
      const body = bodyOf(entry.id, { queue: entry.queue, fields: entry.fields });
      return [body === undefined ? record : { ...record, body }];
    });
  }
}
