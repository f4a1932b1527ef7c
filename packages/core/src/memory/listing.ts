/**
 * `listJobs` over core's in-memory store: one state's jobs a page at a time, or jobs by id.
 *
 * The store keeps no index by state or by id (the drain path would pay for it per job), so
 * a listing walks where the state's jobs are and keeps the `limit + 1` first of them in the
 * documented order (`ListJobsOptions`) in a bounded heap: O(jobs of the state × log limit)
 * per page. Where each state's jobs are:
 *
 * - `queued`, `scheduled`, `retrying`, `running`: the jobs the store holds (ready,
 *   scheduled, parked or deferred, leased), by the state their status shows
 *   ({@link visibleState}), so a listing agrees with `getStatus` and the queue counts;
 * - `succeeded`, `failed`: the finished statuses kept (the jobs themselves are dropped, so
 *   no `body`);
 * - `dead`: the dead set, with each job's status (or one read from its body once the status
 *   expired).
 *
 * A cursor is the sort key of the last job of a page; the next page is the jobs whose key
 * comes after it. A key never changes while its job stays in the state (queued: queue,
 * priority, the store's sequence number; scheduled and retrying: run time, id; running:
 * id; finished: finish time, id), so a job that stays is listed once and none is skipped.
 *
 * @module
 */
import { MAX_LIST_LIMIT, type DeadJob, type JobPage, type JobPayload, type JobState, type ListedJob, type ListJobsOptions, type StatusRecord } from "../adapter/contract.js";
import { ConfigError } from "../errors.js";
import type { Entry } from "./entry.js";
import { MinHeap } from "./heap.js";
import { visibleState } from "./status.js";
import type { MemoryStore } from "./store.js";

const STATES: readonly JobState[] = ["queued", "scheduled", "running", "retrying", "succeeded", "failed", "dead"];
const PAGE_KEYS = new Set(["state", "queue", "job", "cursor", "limit"]);

/** A sort key: compared element by element, numbers as numbers, strings by code unit. */
type Key = (string | number)[];

/** A job that may go on the page: its key, and what builds its listing. */
interface Row {
  key: Key;
  record: StatusRecord;
  state: JobState;
  body: string | undefined;
}

function compareKeys(a: Key, b: Key): number {
  for (let index = 0; index < a.length; index++) {
    if (a[index] !== b[index]) return a[index]! < b[index]! ? -1 : 1;
  }
  return 0;
}

/** A page of one state's jobs, or jobs by id, at `now`. */
export function listJobs(store: MemoryStore, options: ListJobsOptions, now: number = Date.now()): JobPage {
  if (typeof options !== "object" || options === null) throw new ConfigError("listJobs: give { state, limit, … } or { ids }");
  if ("ids" in options) return { jobs: byIds(store, checkIds(options), now) };
  for (const key of Object.keys(options)) if (!PAGE_KEYS.has(key)) throw new ConfigError(`listJobs: unknown option ${JSON.stringify(key)}`);
  const { state, queue, job, limit } = options;
  if (!STATES.includes(state)) throw new ConfigError(`listJobs: state must be one of ${STATES.join(", ")}, got ${JSON.stringify(state)}`);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new ConfigError(`listJobs: limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${JSON.stringify(limit)}`);
  }
  for (const [name, value] of [["queue", queue], ["job", job], ["cursor", options.cursor]] as const) {
    if (value !== undefined && (typeof value !== "string" || value === "")) throw new ConfigError(`listJobs: ${name} must be a non-empty string`);
  }
  const filter = { state, queue, job };
  const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor, filter);
  // A max-heap of the limit + 1 first rows after the cursor: the extra one says a next page exists.
  const page = new MinHeap<Row>((a, b) => compareKeys(a.key, b.key) > 0);
  // Whether a key may go on the page: after the cursor, and before the last of a full heap.
  const fits = (key: Key) => (after === undefined || compareKeys(key, after) > 0) && (page.size <= limit || compareKeys(key, page.peek()!.key) < 0);
  for (const row of rows(store, filter, fits, now)) {
    page.push(row);
    if (page.size > limit + 1) page.pop();
  }
  const sorted = [...page.values()].sort((a, b) => compareKeys(a.key, b.key));
  const more = sorted.length > limit;
  if (more) sorted.length = limit;
  const jobs = sorted.map(listed);
  return more ? { jobs, next: encodeCursor(filter, sorted[sorted.length - 1]!.key) } : { jobs };
}

/** The jobs in the filter's state, queue and job class whose key `fits`, in no particular order. */
function* rows(store: MemoryStore, { state, queue, job }: Filter, fits: (key: Key) => boolean, now: number): Generator<Row> {
  const wanted = (record: StatusRecord) => (queue === undefined || record.queue === queue) && (job === undefined || record.job === job);
  if (state === "succeeded" || state === "failed") {
    for (const record of store.statuses.finished(now)) {
      if (record.state !== state || !wanted(record)) continue;
      const key = [-record.finishedAt!.getTime(), record.id];
      if (fits(key)) yield { key, record, state, body: undefined };
    }
    return;
  }
  if (state === "dead") {
    for (const dead of store.dead.values()) {
      if (queue !== undefined && dead.queue !== queue) continue;
      const key = [-dead.diedAt.getTime(), dead.id];
      if (!fits(key)) continue;
      const record = store.statuses.get(dead.id, now) ?? deadRecord(dead);
      if (wanted(record)) yield { key, record, state, body: dead.body };
    }
    return;
  }
  // Running jobs are the leased ones, and only they: the others are walked for the other states.
  for (const entry of store.held(state === "running" ? "leased" : "waiting")) {
    const record = entry.status;
    if (typeof record === "string" || (queue !== undefined && entry.queue !== queue) || (job !== undefined && entry.job !== job)) continue;
    if (visibleState(record, now) !== state) continue;
    const key = heldKey(entry, record, state);
    if (fits(key)) yield { key, record, state, body: entry.body };
  }
}

function heldKey(entry: Entry, record: StatusRecord, state: JobState): Key {
  if (state === "queued") return [entry.queue, entry.priority, entry.seq];
  if (state === "running") return [record.id];
  return [record.runAt.getTime(), record.id];
}

/** What a row lists: a copy of its status, in the row's state, and its body. */
function listed({ record, state, body }: Row): ListedJob {
  const job: ListedJob = { ...record, state };
  if (record.progress) job.progress = { ...record.progress };
  if (body !== undefined) job.body = body;
  return job;
}

/** Jobs by id, in the order given; unknown ids left out. O(jobs held + dead) for the lot. */
function byIds(store: MemoryStore, ids: readonly string[], now: number): ListedJob[] {
  const wanted = new Set(ids);
  const held = new Map<string, Entry>();
  for (const entry of store.held()) if (wanted.has(entry.jobId) && !held.has(entry.jobId)) held.set(entry.jobId, entry);
  const dead = new Map<string, DeadJob>();
  for (const job of store.dead.values()) if (wanted.has(job.id)) dead.set(job.id, job);
  const jobs: ListedJob[] = [];
  for (const id of ids) {
    const entry = held.get(id);
    if (entry !== undefined && typeof entry.status !== "string") {
      jobs.push(listed({ key: [], record: entry.status, state: visibleState(entry.status, now), body: entry.body }));
      continue;
    }
    const deadJob = dead.get(id);
    const record = store.statuses.get(id, now);
    if (deadJob !== undefined) jobs.push(listed({ key: [], record: record ?? deadRecord(deadJob), state: "dead", body: deadJob.body }));
    else if (record !== null) jobs.push(record);
  }
  return jobs;
}

function checkIds(options: { ids: unknown }): string[] {
  const { ids } = options;
  if (Object.keys(options).length !== 1) throw new ConfigError("listJobs: { ids } takes no other option");
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) throw new ConfigError("listJobs: ids must be an array of job ids (strings)");
  return ids as string[];
}

/** The status of a dead job whose own status expired, from what its body and the dead set say. */
function deadRecord(dead: DeadJob): StatusRecord {
  let payload: Partial<JobPayload> = {};
  try {
    const parsed: unknown = JSON.parse(dead.body);
    if (typeof parsed === "object" && parsed !== null) payload = parsed as Partial<JobPayload>;
  } catch {
    // A malformed body: only the dead set's own fields are known.
  }
  const date = (iso: unknown) => (typeof iso === "string" && !Number.isNaN(Date.parse(iso)) ? new Date(iso) : dead.diedAt);
  return {
    id: dead.id,
    job: typeof payload.job === "string" ? payload.job : "",
    queue: dead.queue,
    priority: typeof payload.priority === "number" ? payload.priority : 0,
    state: "dead",
    executions: typeof payload.executions === "number" ? payload.executions : 0,
    error: dead.error,
    enqueuedAt: date(payload.enqueuedAt),
    runAt: date(payload.runAt),
    finishedAt: dead.diedAt,
    updatedAt: dead.diedAt,
  };
}

interface Filter {
  state: JobState;
  queue: string | undefined;
  job: string | undefined;
}

function encodeCursor(filter: Filter, key: Key): string {
  return Buffer.from(JSON.stringify({ s: filter.state, q: filter.queue ?? null, j: filter.job ?? null, k: key })).toString("base64url");
}

function decodeCursor(cursor: string, filter: Filter): Key {
  let decoded: { s?: unknown; q?: unknown; j?: unknown; k?: unknown };
  try {
    decoded = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as typeof decoded;
  } catch {
    throw new ConfigError(`listJobs: cursor ${JSON.stringify(cursor)} is not one this adapter made`);
  }
  const key = decoded?.k;
  if (!Array.isArray(key) || key.some((part) => typeof part !== "string" && typeof part !== "number")) {
    throw new ConfigError(`listJobs: cursor ${JSON.stringify(cursor)} is not one this adapter made`);
  }
  if (decoded.s !== filter.state || decoded.q !== (filter.queue ?? null) || decoded.j !== (filter.job ?? null)) {
    throw new ConfigError("listJobs: the cursor belongs to another listing (give the same state, queue and job as for the page it came from)");
  }
  return key as Key;
}
