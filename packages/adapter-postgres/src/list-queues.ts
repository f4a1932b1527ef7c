/**
 * `listQueues` on PostgreSQL: counts per queue and state from the count log that the jobs
 * table's triggers keep (migration 014), never a scan of the jobs; with capability `control`
 * the paused queues and, when asked, throughput per minute.
 *
 * Why a log and not count(*): with 1,000,000 jobs stored a count(*) … GROUP BY read every
 * row, 480 ms (load 3.2–3.7; 303–703 ms in a first attempt); the log's few rows per queue,
 * plus a probe of the due range of `jobs_scheduled` and one of the ready index per queue and
 * priority, took 3.5 ms with an hour of throughput (bench/dashboard/postgres.ts).
 *
 * @module
 */
import type pg from "pg";

import { ConfigError, type ListQueuesOptions, type QueueInfo, type QueueThroughput } from "@errand/core/adapter";

import type { QueryName } from "./sql.js";

const MINUTE_MS = 60_000;

/**
 * Count rows read beyond which `listQueues` folds the log (`errand.fold_counts`). The
 * retention step folds it anyway; this bounds it while nobody reserves (enqueues alone add
 * a row per statement and queue): 5,000 rows read take ~2 ms.
 */
export const FOLD_AFTER_ROWS = 5000;

/** What the counts need of their adapter. */
export interface QueueCountsContext {
  query<R extends pg.QueryResultRow>(name: QueryName, values: unknown[]): Promise<pg.QueryResult<R>>;
}

interface CountRow {
  queue: string;
  queued: string;
  scheduled: string;
  running: string;
  retrying: string;
  dead: string;
  succeeded: string;
  failed: string;
  latency_ms: string;
  rows: string;
}

interface ControlRow {
  kind: "p" | "t";
  queue: string;
  minute: number | null;
  succeeded: string | null;
  failed: string | null;
}

/** Every queue the backend knows (it holds jobs, or it is paused), by name. */
export async function listQueues(context: QueueCountsContext, options: ListQueuesOptions = {}): Promise<QueueInfo[]> {
  const minutes = options.throughputMinutes;
  if (minutes !== undefined && (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440)) {
    throw new ConfigError(`postgres adapter: listQueues throughputMinutes must be an integer from 1 to 1440, got ${JSON.stringify(minutes)}`);
  }
  const last = Math.floor(Date.now() / MINUTE_MS);
  const first = minutes === undefined ? null : last - minutes + 1;
  const [counts, control] = await Promise.all([
    context.query<CountRow>("list-queues", []),
    context.query<ControlRow>("control-read", [first, last]),
  ]);
  if (counts.rows.reduce((sum, row) => sum + Number(row.rows), 0) > FOLD_AFTER_ROWS) await context.query("fold-counts", []);
  const paused = new Set(control.rows.filter((row) => row.kind === "p").map((row) => row.queue));
  const byName = new Map<string, QueueInfo>();
  for (const row of counts.rows) {
    byName.set(row.queue, {
      name: row.queue,
      queued: Number(row.queued),
      scheduled: Number(row.scheduled),
      running: Number(row.running),
      retrying: Number(row.retrying),
      dead: Number(row.dead),
      succeeded: Number(row.succeeded),
      failed: Number(row.failed),
      latencyMs: Number(row.latency_ms),
    });
  }
  for (const queue of paused) {
    if (!byName.has(queue)) byName.set(queue, { name: queue, queued: 0, scheduled: 0, running: 0, retrying: 0, dead: 0, succeeded: 0, failed: 0, latencyMs: 0 });
  }
  const infos = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const info of infos) info.paused = paused.has(info.name);
  if (first !== null && minutes !== undefined) {
    const throughput = new Map<string, QueueThroughput>();
    const of = (queue: string) => {
      let entry = throughput.get(queue);
      if (!entry) throughput.set(queue, (entry = { since: new Date(first * MINUTE_MS), succeeded: new Array<number>(minutes).fill(0), failed: new Array<number>(minutes).fill(0) }));
      return entry;
    };
    for (const row of control.rows) {
      if (row.kind !== "t") continue;
      const entry = of(row.queue);
      entry.succeeded[row.minute! - first] = Number(row.succeeded);
      entry.failed[row.minute! - first] = Number(row.failed);
    }
    for (const info of infos) info.throughput = of(info.name);
  }
  return infos;
}
