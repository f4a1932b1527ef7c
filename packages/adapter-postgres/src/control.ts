/**
 * The operator's side of the PostgreSQL adapter (`capabilities.control`): cancel, run now,
 * abort and interrupt jobs, pause queues, worker heartbeats and throughput (tables and
 * functions of migrations 014 and 021). Nothing here runs on the drain path.
 *
 * An abort mark's life: `changeJobs({ action: "abort" })` stores the job's id with the lease
 * token of the run it was asked for, in the statement that checks the job runs. An interrupt
 * mark is one of kind `interrupt` (021): an abort of the same run makes it an abort mark, an
 * interrupt leaves an abort mark as it is. A beat
 * answers the marks of the jobs the worker says it runs whose row still holds that token
 * and is `running`; so a mark lapses by itself when the job settles, or when its lease ran
 * out and another run took it (a new token), and settle never looks at marks. Marks older
 * than an hour go at any beat.
 *
 * Run now writes the payload whole with its new `runAt` (a narrow body leaves `runAt` to its
 * column; body.ts asks every statement that moves `run_at` to write the body whole), read
 * first and written if the row did not change in between (its `updated_at`, to the µs).
 *
 * @module
 */
import type pg from "pg";

import {
  ConfigError,
  JobCancelledError,
  type ChangeJobsOptions,
  type HeartbeatOptions,
  type HeartbeatResult,
  type JobAction,
  type PauseQueuesOptions,
  type RunningJobInfo,
  type StoredError,
  type WorkerRecord,
} from "@errand/core/adapter";

import { expandBody } from "./body.js";
import type { QueryName } from "./sql.js";
import { isUuid } from "./uuid.js";

const MINUTE_MS = 60_000;
const ACTIONS: readonly JobAction[] = ["cancel", "runNow", "abort", "interrupt"];

/** What the control side needs of its adapter. */
export interface ControlContext {
  query<R extends pg.QueryResultRow>(name: QueryName, values: unknown[]): Promise<pg.QueryResult<R>>;
  wakeChannel: string;
  /** The status channel, or null when the adapter publishes none. */
  statusChannel: string | null;
}

/** The error a cancelled job's status keeps: core's `JobCancelledError`, as stored. */
function cancelledError(): StoredError {
  const error = new JobCancelledError();
  return { name: error.name, message: error.message, code: error.code };
}

/** A payload text with `runAt` set to `at`; a body that is not a JSON object stays as it is (it would die anyway). */
function withRunAt(body: string, at: Date): string {
  try {
    const payload = JSON.parse(body) as unknown;
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return body;
    return JSON.stringify({ ...payload, runAt: at.toISOString() });
  } catch {
    return body;
  }
}

/** Pauses, actions on jobs, and workers' beats of one PostgreSQL adapter. */
export class Control {
  constructor(private readonly context: ControlContext) {}

  /** Cancels, runs now, aborts or interrupts jobs; answers the ids the action applied to, in the order given. */
  async changeJobs({ action, ids }: ChangeJobsOptions): Promise<string[]> {
    if (!ACTIONS.includes(action)) throw new ConfigError(`postgres adapter: changeJobs action must be one of ${ACTIONS.join(", ")}, got ${JSON.stringify(action)}`);
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) throw new ConfigError("postgres adapter: changeJobs ids must be an array of job ids (strings)");
    // Sorted, so two calls lock rows in the same order. Ids that are no UUID name no job.
    const valid = [...new Set(ids.filter(isUuid).map((id) => id.toLowerCase()))].sort();
    if (valid.length === 0) return [];
    let changed: string[];
    if (action === "cancel") {
      changed = (await this.context.query<{ id: string }>("control-cancel", [valid, JSON.stringify(cancelledError()), this.context.statusChannel, this.context.wakeChannel])).rows.map((row) => row.id);
    } else if (action === "abort" || action === "interrupt") {
      changed = (await this.context.query<{ id: string }>("control-abort", [valid, action])).rows.map((row) => row.id);
    } else {
      changed = await this.runNow(valid);
    }
    const applied = new Set(changed);
    const seen = new Set<string>();
    return ids.filter((id) => {
      const key = id.toLowerCase();
      if (!applied.has(key) || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  private async runNow(ids: string[]): Promise<string[]> {
    const { rows } = await this.context.query<{ id: string; body: string; priority: number; run_ms: string | null; version: string; now: Date }>("control-due-later", [ids]);
    if (rows.length === 0) return [];
    const now = rows[0]!.now;
    const bodies = rows.map((row) => withRunAt(expandBody(row.body, row.id, row.priority, row.run_ms), now));
    const { rows: moved } = await this.context.query<{ ids: string[] | null }>("control-run-now", [
      rows.map((row) => row.id),
      bodies,
      rows.map((row) => row.version),
      now,
      this.context.wakeChannel,
      this.context.statusChannel,
    ]);
    return moved[0]?.ids ?? [];
  }

  /** Pauses or resumes queues for every worker. */
  async pauseQueues({ queues, paused }: PauseQueuesOptions): Promise<void> {
    if (!Array.isArray(queues) || queues.some((queue) => typeof queue !== "string" || queue === "")) throw new ConfigError("postgres adapter: pauseQueues queues must be non-empty strings");
    if (typeof paused !== "boolean") throw new ConfigError(`postgres adapter: pauseQueues paused must be true or false, got ${JSON.stringify(paused)}`);
    if (queues.length === 0) return;
    await this.context.query(paused ? "control-pause" : "control-resume", [queues]);
  }

  /** Stores a beat; answers the paused queues and the jobs of this worker to abort or interrupt. */
  async heartbeat({ worker, at, ttlMs, finished, stopping }: HeartbeatOptions): Promise<HeartbeatResult> {
    if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new ConfigError("postgres adapter: heartbeat at must be a valid Date");
    if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > 2_147_483_647) throw new ConfigError(`postgres adapter: heartbeat ttlMs must be a positive integer, got ${JSON.stringify(ttlMs)}`);
    const running = worker.running.map((job) => job.id).filter(isUuid);
    const { rows } = await this.context.query<{ paused: string[]; abort: string[]; interrupt: string[] }>("control-beat", [
      worker.id,
      JSON.stringify(worker),
      at,
      ttlMs,
      stopping === true,
      Math.floor(at.getTime() / MINUTE_MS),
      finished.map((count) => count.queue),
      finished.map((count) => count.succeeded),
      finished.map((count) => count.failed),
      running,
    ]);
    const abort = new Set(rows[0]!.abort);
    const interrupt = new Set(rows[0]!.interrupt);
    const ids = worker.running.map((job) => job.id);
    return { paused: rows[0]!.paused, abort: ids.filter((id) => abort.has(id.toLowerCase())), interrupt: ids.filter((id) => interrupt.has(id.toLowerCase())) };
  }

  /** Every worker record kept (live or gone, an hour past its ttl at most), by id. */
  async listWorkers(): Promise<WorkerRecord[]> {
    type Stored = Omit<WorkerRecord, "startedAt" | "lastBeatAt" | "ttlMs" | "running"> & { startedAt: string; running: (Omit<RunningJobInfo, "startedAt"> & { startedAt: string })[] };
    const { rows } = await this.context.query<{ record: Stored; last_beat_at: Date; ttl_ms: number }>("control-workers", []);
    return rows.map(({ record, last_beat_at, ttl_ms }) => ({
      ...record,
      startedAt: new Date(record.startedAt),
      running: record.running.map((job) => ({ ...job, startedAt: new Date(job.startedAt) })),
      lastBeatAt: last_beat_at,
      ttlMs: ttl_ms,
    }));
  }
}
