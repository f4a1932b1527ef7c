/**
 * The PostgreSQL status store's operator side (`StatusStore.control`, core's
 * `adapter/status-store-control.ts`): what the SQS adapter offers operators through it.
 * Tables and indexes of migration 015; one statement per call (`sql/queries/status-*.sql`).
 *
 * Listing one state: a loose index scan finds the (state, queue, job) triples that have rows
 * (`status-pairs-*.sql`, one index probe per triple), then one statement merges the first
 * rows of each triple after the cursor (`status-list-*.sql`). `queued` lists queue by queue
 * (by name): the cursor's queue first, then the next ones until the page is full, one
 * statement per queue visited; a scheduled job whose time has come lists as queued. Cursors
 * carry times in µs, as stored, so rows of one millisecond are neither skipped nor repeated.
 *
 * @module
 */
import {
  ConfigError,
  JobCancelledError,
  MAX_LIST_LIMIT,
  VOID_MARK_RETENTION_MS,
  type HeartbeatOptions,
  type HeartbeatResult,
  type JobPage,
  type JobState,
  type ListedJob,
  type ListJobsOptions,
  type PauseQueuesOptions,
  type QueueThroughput,
  type RunNowMark,
  type RunningJobInfo,
  type StatusControlState,
  type StatusDelivery,
  type StatusQueueFigures,
  type StatusStoreControl,
  type WorkerRecord,
} from "@errand/core/adapter";
import type pg from "pg";

import { statusRecord, type StatusColumns } from "./status-row.js";

const MINUTE_MS = 60_000;
const STATES = new Set<JobState>(["scheduled", "queued", "running", "succeeded", "retrying", "failed", "dead"]);
const FINISHED = new Set<JobState>(["succeeded", "failed", "dead"]);

type Query = <R extends pg.QueryResultRow>(name: string, values: unknown[]) => Promise<pg.QueryResult<R>>;

/** What the store hands its operator side. */
export interface PostgresStatusControlOptions {
  query: Query;
  statusChannel: string;
  finishedTtlMs: number;
  /** How long a dead status is kept (listed and counted), in ms. */
  deadTtlMs: number;
}

interface ListRow extends StatusColumns {
  state: JobState;
  future: boolean;
  body: string | null;
  sort_us: string;
}

/** A listing's place: the last job given (its queue for `queued`, sort time in µs, id). */
interface Cursor {
  v: 1;
  s: JobState;
  q?: string;
  j?: string;
  at: [queue: string, us: string, id: string];
}

function decode(text: string, state: JobState, queue: string | undefined, job: string | undefined): Cursor["at"] {
  let cursor: Cursor;
  try {
    cursor = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Cursor;
  } catch {
    throw new ConfigError(`postgres status store: listJobs cursor ${JSON.stringify(text.slice(0, 40))} is not a cursor this store gave`);
  }
  const at = cursor?.at;
  if (cursor?.v !== 1 || !Array.isArray(at) || at.length !== 3 || !at.every((part) => typeof part === "string") || !/^\d*$/.test(at[1])) {
    throw new ConfigError(`postgres status store: listJobs cursor ${JSON.stringify(text.slice(0, 40))} is not a cursor this store gave`);
  }
  if (cursor.s !== state || cursor.q !== queue || cursor.j !== job) {
    throw new ConfigError(
      `postgres status store: listJobs cursor was made for state ${JSON.stringify(cursor.s)}, queue ${JSON.stringify(cursor.q ?? null)}, job ${JSON.stringify(cursor.j ?? null)}; give it with the same state, queue and job`,
    );
  }
  return at;
}

/** A listed job of a row, in the state a read shows (a due scheduled job reads queued). */
function listed(row: ListRow): ListedJob {
  const record = statusRecord(row, row.state === "scheduled" && !row.future ? "queued" : row.state);
  return row.body === null ? record : { ...record, body: row.body };
}

/** The operator's side of a `PostgresStatusStore`; see the module notes. */
export class PostgresStatusControl implements StatusStoreControl {
  constructor(private readonly options: PostgresStatusControlOptions) {}

  private query<R extends pg.QueryResultRow>(name: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    return this.options.query<R>(name, values);
  }

  async list(options: ListJobsOptions): Promise<JobPage> {
    if ("ids" in options) {
      if (options.ids.length === 0) return { jobs: [] };
      const { rows } = await this.query<ListRow>("status-list-ids", [[...new Set(options.ids)]]);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return { jobs: options.ids.flatMap((id) => (byId.has(id) ? [listed(byId.get(id)!)] : [])) };
    }
    const { state, queue, job, cursor, limit } = options;
    if (!STATES.has(state)) throw new ConfigError(`postgres status store: listJobs state must be one of ${[...STATES].join(", ")}, got ${JSON.stringify(state)}`);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new ConfigError(`postgres status store: listJobs limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${limit}`);
    const at = cursor === undefined ? undefined : decode(cursor, state, queue, job);
    const finished = FINISHED.has(state);
    const states = state === "queued" ? ["queued", "scheduled"] : [state];
    const found = await Promise.all(states.map((one) => this.query<{ state: string; queue: string; job: string }>(finished ? "status-pairs-done" : "status-pairs-live", [one, queue ?? null, job ?? null])));
    const triples = found.flatMap((result) => result.rows);
    const rows: ListRow[] = [];
    const page = (of: typeof triples, after: Cursor["at"] | undefined) => {
      const columns = [of.map((t) => t.state), of.map((t) => t.queue), of.map((t) => t.job), limit + 1 - rows.length];
      const us = after?.[1] ? after[1] : null;
      // The retention of the state listed: dead statuses outlive the other finished ones.
      const ttl = state === "dead" ? this.options.deadTtlMs : this.options.finishedTtlMs;
      if (finished) return this.query<ListRow>("status-list-done", [...columns, us, after?.[2] ?? null, ttl]);
      if (state === "running") return this.query<ListRow>("status-list-running", [...columns, after?.[2] || null]);
      return this.query<ListRow>("status-list-live", [...columns, us, after?.[2] ?? null, state === "queued" ? "due" : "ahead"]);
    };
    if (state === "queued") {
      // Queue by queue, by name, from the cursor's; one statement per queue visited.
      const queues = [...new Set(triples.map((t) => t.queue))].sort();
      for (const name of queues) {
        if (at && name < at[0]) continue;
        rows.push(...(await page(triples.filter((t) => t.queue === name), at && name === at[0] ? at : undefined)).rows);
        if (rows.length > limit) break;
      }
    } else if (triples.length > 0) {
      rows.push(...(await page(triples, at)).rows);
    }
    const jobs = rows.slice(0, limit).map(listed);
    const last = rows[limit - 1];
    if (rows.length <= limit || !last) return { jobs };
    const next: Cursor = { v: 1, s: state, at: [state === "queued" ? last.queue : "", state === "running" ? "" : String(last.sort_us), last.id] };
    if (queue !== undefined) next.q = queue;
    if (job !== undefined) next.j = job;
    return { jobs, next: Buffer.from(JSON.stringify(next)).toString("base64url") };
  }

  async figures(queues: readonly string[]): Promise<StatusQueueFigures[]> {
    if (queues.length === 0) return [];
    const { rows } = await this.query<Omit<StatusQueueFigures, "oldestQueuedMs"> & { oldest: Date | null }>("status-figures", [[...queues], this.options.finishedTtlMs, this.options.deadTtlMs]);
    return rows.map(({ oldest, ...counts }) => (oldest ? { ...counts, oldestQueuedMs: oldest.getTime() } : counts));
  }

  async deliveries(items: readonly StatusDelivery[]): Promise<string[]> {
    const voided = new Set<string>();
    // One statement updates a row once: a job named twice (two deliveries) takes two rounds.
    const rounds: StatusDelivery[][] = [];
    const seen = new Map<string, number>();
    for (const item of items) {
      const round = seen.get(item.id) ?? 0;
      seen.set(item.id, round + 1);
      (rounds[round] ??= []).push(item);
    }
    for (const round of rounds) {
      const { rows } = await this.query<{ void: number[] }>("status-deliveries", [
        round.map((d) => d.id),
        round.map((d) => d.lease),
        round.map((d) => d.runAt),
        this.options.finishedTtlMs,
        this.options.statusChannel,
      ]);
      for (const position of rows[0]?.void ?? []) voided.add(round[position - 1]!.id);
    }
    return items.filter((item) => voided.has(item.id)).map((item) => item.id).filter((id, i, all) => all.indexOf(id) === i);
  }

  async cancel(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const error = new JobCancelledError();
    const { rows } = await this.query<{ ids: string[] }>("status-cancel", [
      [...new Set(ids)],
      JSON.stringify({ name: error.name, message: error.message, code: error.code }),
      this.options.finishedTtlMs,
      VOID_MARK_RETENTION_MS,
      this.options.statusChannel,
      this.options.deadTtlMs,
    ]);
    const cancelled = new Set(rows[0]?.ids ?? []);
    return ids.filter((id, i) => cancelled.has(id) && ids.indexOf(id) === i);
  }

  async runNow(marks: readonly RunNowMark[]): Promise<void> {
    if (marks.length === 0) return;
    await this.query("status-run-now", [marks.map((m) => m.id), marks.map((m) => m.superseded), marks.map((m) => m.body), VOID_MARK_RETENTION_MS, this.options.statusChannel]);
  }

  async abort(ids: readonly string[]): Promise<string[]> {
    return this.mark(ids, "abort");
  }

  async interrupt(ids: readonly string[]): Promise<string[]> {
    return this.mark(ids, "interrupt");
  }

  /** Marks running jobs for an abort or an interrupt (migration 021: an abort of the same run wins); answers the ids marked, in order. */
  private async mark(ids: readonly string[], kind: "abort" | "interrupt"): Promise<string[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.query<{ id: string }>("status-abort", [[...new Set(ids)], kind]);
    const marked = new Set(rows.map((row) => row.id));
    return ids.filter((id, i) => marked.has(id) && ids.indexOf(id) === i);
  }

  async pauseQueues({ queues, paused }: PauseQueuesOptions): Promise<void> {
    if (queues.length > 0) await this.query("status-pause", [[...queues], paused]);
  }

  async heartbeat({ worker, at, ttlMs, finished, stopping }: HeartbeatOptions): Promise<HeartbeatResult> {
    const record = JSON.stringify({ ...worker, lastBeatAt: at.toISOString(), ttlMs });
    const { rows } = await this.query<{ paused: string[]; abort: string[]; interrupt: string[] }>("status-beat", [
      worker.id,
      record,
      stopping === true,
      ttlMs,
      Math.floor(at.getTime() / MINUTE_MS),
      finished.map((f) => f.queue),
      finished.map((f) => f.succeeded),
      finished.map((f) => f.failed),
      worker.running.map((job) => job.id),
    ]);
    const abort = new Set(rows[0]?.abort ?? []);
    const interrupt = new Set(rows[0]?.interrupt ?? []);
    const ids = worker.running.map((job) => job.id);
    return { paused: rows[0]?.paused ?? [], abort: ids.filter((id) => abort.has(id)), interrupt: ids.filter((id) => interrupt.has(id)) };
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    const { rows } = await this.query<{ record: Omit<WorkerRecord, "startedAt" | "lastBeatAt" | "running"> & { startedAt: string; lastBeatAt: string; running: (Omit<RunningJobInfo, "startedAt"> & { startedAt: string })[] } }>("status-workers", []);
    return rows.map(({ record: r }) => ({ ...r, startedAt: new Date(r.startedAt), lastBeatAt: new Date(r.lastBeatAt), running: r.running.map((job) => ({ ...job, startedAt: new Date(job.startedAt) })) }));
  }

  async state(throughputMinutes?: number): Promise<StatusControlState> {
    const count = throughputMinutes ?? 0;
    const first = Math.floor(Date.now() / MINUTE_MS) - count + 1;
    const { rows } = await this.query<{ paused: string[]; throughput: [string, string, string, string][] }>("status-control-read", [first, count]);
    const paused = rows[0]?.paused ?? [];
    if (throughputMinutes === undefined) return { paused };
    const throughput: Record<string, QueueThroughput> = {};
    for (const [queue, minute, succeeded, failed] of rows[0]?.throughput ?? []) {
      const entry = (throughput[queue] ??= { since: new Date(first * MINUTE_MS), succeeded: new Array<number>(count).fill(0), failed: new Array<number>(count).fill(0) });
      const index = Number(minute) - first;
      entry.succeeded[index] = Number(succeeded);
      entry.failed[index] = Number(failed);
    }
    return { paused, throughput };
  }
}
