/**
 * `listJobs` on PostgreSQL (`capabilities.listJobs`): one state's jobs a page at a time, or
 * jobs by id. One statement per page, from `sql/queries/list-<state>.sql`; each walks the
 * index its state is kept in (migrations 010, 012, 014) from the cursor's key:
 *
 * | state | key | where |
 * | --- | --- | --- |
 * | `queued` | queue, priority, run_at, seq | ready index, `jobs_held`, due part of `jobs_scheduled` |
 * | `scheduled` | run_at, id | `jobs_scheduled` |
 * | `retrying` | run_at, id | `jobs_scheduled`, and the ready rows (due retries) |
 * | `running` | id | the open batches' ids |
 * | `succeeded` | batch token, finished_at, id (descending) | the batches, newest first |
 * | `failed` | finished_at, id (descending) | `failed_jobs` |
 * | `dead` | dead_at, seq (descending) | `jobs_dead` |
 *
 * A job keeps its key while it stays in its state, so a job that stays is listed once
 * however others move (a rate-limit deferral moves a queued job's `run_at`, and so its
 * place, as a reserve would see it). Succeeded jobs come newest reserve call first, not
 * strictly newest finished first: see `errand.list_succeeded` (migration 014).
 *
 * Filters by queue use the indexes; a job-class filter has none (an index on `job` would
 * cost every enqueue a btree insert), so a page looks at {@link LOOK_AT} rows per source at
 * most, in the one scan that finds its matches, and may come back short, even empty, with a
 * `next` that goes on.
 *
 * @module
 */
import type pg from "pg";

import { ConfigError, MAX_LIST_LIMIT, type JobPage, type JobState, type ListedJob, type ListJobsOptions } from "@errand/core/adapter";

import { expandBody } from "./body.js";
import { statusState, type StatusRow } from "./job-rows.js";
import type { QueryName } from "./sql.js";
import { statusRecord, type StatusColumns } from "./status-row.js";
import { isUuid } from "./uuid.js";

/**
 * Rows a page looks at per source with a job-class filter (succeeded: ids of the batches
 * walked). A page that looks at all of them took 70–87 ms with 1M jobs stored, one for a 1 %
 * class 9.5–16 ms (bench/dashboard/postgres.ts, load 3.2–3.7): bounded well under the 200 ms
 * a dashboard page may take, whatever the filter.
 */
export const LOOK_AT = 20_000;

const STATES: readonly JobState[] = ["queued", "scheduled", "running", "retrying", "succeeded", "failed", "dead"];

/** How each state's query takes its cursor: the key's parameters, from the start when there is no cursor. */
const KEYS: Record<JobState, { query: QueryName; start: (string | null)[] }> = {
  queued: { query: "list-queued", start: ["", "-2147483648", null, "0"] },
  scheduled: { query: "list-scheduled", start: [null, "00000000-0000-0000-0000-000000000000"] },
  retrying: { query: "list-retrying", start: [null, "00000000-0000-0000-0000-000000000000"] },
  running: { query: "list-running", start: ["00000000-0000-0000-0000-000000000000"] },
  dead: { query: "list-dead-jobs", start: [null, "9223372036854775807"] },
  failed: { query: "list-failed", start: [null, "ffffffff-ffff-ffff-ffff-ffffffffffff"] },
  succeeded: { query: "list-succeeded", start: [null, null, null] },
};

/** A row of the list-*.sql queries: a job that matches (`hit`), or a source's frontier, or both. */
interface PageRow extends StatusColumns {
  hit: boolean;
  frontier: boolean;
  state: string;
  body: string;
  run_ms: string | null;
  k1: string;
  k2?: string | null;
  k3?: string | null;
  k4?: string | null;
}

interface Cursor {
  v: 1;
  s: JobState;
  q?: string;
  j?: string;
  k: (string | null)[];
}

/** What listing needs of its adapter. */
export interface ListingContext {
  query<R extends pg.QueryResultRow>(name: QueryName, values: unknown[]): Promise<pg.QueryResult<R>>;
}

/** The options given, checked: a `ConfigError` naming what is wrong. */
function check(options: ListJobsOptions): void {
  if (typeof options !== "object" || options === null) throw new ConfigError("postgres adapter: listJobs takes { state, limit, queue?, job?, cursor? } or { ids }");
  const allowed = "ids" in options ? ["ids"] : ["state", "queue", "job", "cursor", "limit"];
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new ConfigError(`postgres adapter: listJobs has no option ${JSON.stringify(key)}${"ids" in options ? " beside ids" : ""}`);
  }
  if ("ids" in options) {
    if (!Array.isArray(options.ids) || options.ids.some((id) => typeof id !== "string")) throw new ConfigError("postgres adapter: listJobs ids must be an array of strings");
    return;
  }
  if (!STATES.includes(options.state)) throw new ConfigError(`postgres adapter: listJobs state must be one of ${STATES.join(", ")}, got ${JSON.stringify(options.state)}`);
  if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > MAX_LIST_LIMIT) {
    throw new ConfigError(`postgres adapter: listJobs limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${JSON.stringify(options.limit)}`);
  }
  for (const key of ["queue", "job", "cursor"] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== "string" || value === "")) throw new ConfigError(`postgres adapter: listJobs ${key} must be a non-empty string`);
  }
}

function encode(listing: { state: JobState; queue?: string; job?: string }, key: (string | null)[]): string {
  const cursor: Cursor = { v: 1, s: listing.state, k: key };
  if (listing.queue !== undefined) cursor.q = listing.queue;
  if (listing.job !== undefined) cursor.j = listing.job;
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

/** The key a cursor goes on from; a `ConfigError` when it is not one of this adapter's for this listing. */
function decode(listing: { state: JobState; queue?: string; job?: string }, text: string): (string | null)[] {
  let cursor: Cursor;
  try {
    cursor = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Cursor;
  } catch {
    throw new ConfigError(`postgres adapter: listJobs cursor ${JSON.stringify(text.slice(0, 40))} is not a cursor this adapter gave`);
  }
  const width = KEYS[listing.state].start.length;
  if (cursor?.v !== 1 || !Array.isArray(cursor.k) || cursor.k.length !== width || cursor.k.some((part) => part !== null && typeof part !== "string")) {
    throw new ConfigError(`postgres adapter: listJobs cursor ${JSON.stringify(text.slice(0, 40))} is not a cursor this adapter gave for state ${listing.state}`);
  }
  if (cursor.s !== listing.state || cursor.q !== listing.queue || cursor.j !== listing.job) {
    throw new ConfigError(
      `postgres adapter: listJobs cursor was made for state ${JSON.stringify(cursor.s)}, queue ${JSON.stringify(cursor.q ?? null)}, job ${JSON.stringify(cursor.j ?? null)}; give it with the same state, queue and job`,
    );
  }
  return cursor.k;
}

/** A listed job of a row whose visible state is `state`. */
function listed(row: StatusColumns & { body: string; priority: number; run_ms: string | null }, state: JobState): ListedJob {
  return { ...statusRecord(row, state), body: expandBody(row.body, row.id, row.priority, row.run_ms) };
}

/** The jobs of one PostgreSQL adapter, listed. */
export class Listing {
  constructor(private readonly context: ListingContext) {}

  /** A page of one state's jobs, or jobs by id (see the module's table for the orders). */
  async list(options: ListJobsOptions): Promise<JobPage> {
    check(options);
    if ("ids" in options) return this.byIds(options.ids);
    const { state, queue, job, limit } = options;
    const listing = { state, ...(queue === undefined ? {} : { queue }), ...(job === undefined ? {} : { job }) };
    const key = options.cursor === undefined ? KEYS[state].start : decode(listing, options.cursor);
    const look = job === undefined && state !== "succeeded" ? limit + 1 : LOOK_AT;
    const { rows } = await this.context.query<PageRow>(KEYS[state].query, [queue ?? null, job ?? null, ...key, limit + 1, look]);
    // Rows come in the listing's order: matches, and each source's frontier (see list-queued.sql).
    const matches: PageRow[] = [];
    let next: (string | null)[] | undefined;
    for (const row of rows) {
      if (row.hit) matches.push(row);
      if (matches.length > limit) {
        next = keyOf(state, matches[limit - 1]!);
        break;
      }
      if (row.frontier) {
        next = row.hit || state !== "succeeded" ? keyOf(state, row) : [String(BigInt(row.k1) - 1n), null, null];
        break;
      }
    }
    const page: JobPage = { jobs: matches.slice(0, limit).map((row) => listed(row, state)) };
    if (next !== undefined) page.next = encode(listing, next);
    return page;
  }

  private async byIds(ids: string[]): Promise<JobPage> {
    const valid = [...new Set(ids.filter(isUuid).map((id) => id.toLowerCase()))];
    if (valid.length === 0) return { jobs: [] };
    const { rows } = await this.context.query<StatusRow & { body: string; run_ms: string | null }>("list-ids", [valid]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    const jobs: ListedJob[] = [];
    const seen = new Set<string>();
    for (const id of ids) {
      const row = isUuid(id) ? byId.get(id.toLowerCase()) : undefined;
      if (!row || seen.has(row.id)) continue;
      seen.add(row.id);
      jobs.push(listed(row, statusState(row)));
    }
    return { jobs };
  }
}

/** The key of a row, as its state's query takes it back. */
function keyOf(state: JobState, row: PageRow): (string | null)[] {
  const width = KEYS[state].start.length;
  return [row.k1, row.k2 ?? null, row.k3 ?? null, row.k4 ?? null].slice(0, width);
}
