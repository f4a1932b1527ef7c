/**
 * Flow control and recurring ticks in PostgreSQL (issue 13): the TypeScript side of
 * migrations `006_flow.sql` (enqueue) and `007_flow_reserve.sql` (reserve, settle, upkeep), where the decisions are made.
 *
 * - **Enqueue**: a batch in which some payload carries `flow` goes through `enqueue_flow`
 *   (unique keys and recurring ticks decided in order, atomically, in the caller's
 *   transaction when there is one); a batch without goes through the plain statements.
 * - **Reserve / settle / lease expiry**: inside the adapter's own statements
 *   (`flow_admit`, `flow_release`); nothing to do here.
 * - **Upkeep**: the safety sweep over keys with parked jobs (every `leaseCheckMs`, with the
 *   lease check) and the retention of unique locks and rate windows (with job retention).
 *
 * State: the sweep's cursor, the key the next pass starts after (`null`: the first key).
 * Each pass looks at up to {@link SWEEP_KEYS} keys and moves the cursor past them; when the
 * keys run out it goes back to `null`, so every key is visited within a few passes.
 *
 * @module
 */
import type pg from "pg";

import type { EnqueueResult, JobPayload, RecurringRecord } from "@errand/core/adapter";

import type { Queryable } from "./joined.js";
import type { QueryName } from "./sql.js";

/** Keys with parked jobs looked at per sweep: each costs a lock, two index probes and maybe an update. */
export const SWEEP_KEYS = 100;
/** Unique locks looked at per retention call; a call holds a (tried) advisory lock per lock it deletes. */
export const RETENTION_BATCH = 500;
/** Retention calls per pass at most: up to 5,000 locks, like the 10,000 finished jobs per pass. */
const RETENTION_ROUNDS = 10;

/** What flow control needs of its adapter. */
export interface FlowContext {
  /** Runs a named query (on `client` when given), after migrations. */
  query<R extends pg.QueryResultRow>(name: QueryName, values: unknown[], client?: Queryable): Promise<pg.QueryResult<R>>;
  wakeChannel: string;
  /** The status channel, or null when the adapter publishes none. */
  statusChannel: string | null;
}

/** True when a payload of the batch carries flow control: one field test per job. */
export function hasFlow(jobs: readonly JobPayload[]): boolean {
  for (const job of jobs) if (job.flow !== undefined) return true;
  return false;
}

/** Flow control of one PostgreSQL adapter. */
export class Flow {
  private sweepAfter: string | null = null;

  constructor(private readonly context: FlowContext) {}

  /** Stores a batch with flow control; duplicates come back with the holder's ids. */
  async enqueue(jobs: JobPayload[], client?: Queryable): Promise<EnqueueResult[]> {
    const { rows } = await this.context.query<{ id: string; duplicate: boolean }>(
      "enqueue-flow",
      [JSON.stringify(jobs), this.context.wakeChannel, this.context.statusChannel],
      client,
    );
    if (rows.length !== jobs.length) throw new Error(`postgres adapter: enqueue_flow answered ${rows.length} rows for ${jobs.length} jobs`);
    return rows.map((row, i) =>
      row.duplicate ? { jobId: row.id, providerJobId: row.id, duplicate: true } : { jobId: jobs[i]!.id, providerJobId: jobs[i]!.id },
    );
  }

  /** One pass of the safety sweep: un-parks jobs of keys that have free slots. */
  async sweep(): Promise<void> {
    const { rows } = await this.context.query<{ next: string | null }>("flow-sweep", [
      this.sweepAfter,
      SWEEP_KEYS,
      this.context.wakeChannel,
      this.context.statusChannel,
    ]);
    this.sweepAfter = rows[0]?.next ?? null;
  }

  /** Deletes unique locks that no longer block and rate-window starts past their window. */
  async retention(): Promise<void> {
    for (let round = 0; round < RETENTION_ROUNDS; round++) {
      const { rows } = await this.context.query<{ seen: number }>("flow-retention", [RETENTION_BATCH]);
      if ((rows[0]?.seen ?? 0) < RETENTION_BATCH) return;
    }
  }

  /** Each task's last stored tick, `null` for a task with none, in order. */
  async recurringState(tasks: string[]): Promise<(RecurringRecord | null)[]> {
    if (tasks.length === 0) return [];
    const { rows } = await this.context.query<{ task: string; last_tick: Date; job_id: string }>("recurring-state", [tasks]);
    const byTask = new Map(rows.map((row) => [row.task, row]));
    return tasks.map((task) => {
      const row = byTask.get(task);
      return row ? { task, lastTick: row.last_tick, jobId: row.job_id } : null;
    });
  }
}
