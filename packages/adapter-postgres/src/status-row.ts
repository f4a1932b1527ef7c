/**
 * A status row (of `jobs` or `statuses`) as a `StatusRecord`: the columns both tables share.
 *
 * @module
 */
import type { JobState, StatusRecord, StoredError } from "@errand/core/adapter";

/** The status columns both tables have; `state` is the record's state, worked out by the caller. */
export interface StatusColumns {
  id: string;
  job: string;
  queue: string;
  priority: number;
  executions: number;
  progress: { fraction: number; message?: string } | null;
  result: string | null;
  error: StoredError | null;
  enqueued_at: Date;
  run_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

/** The record of a row, in `state`. */
export function statusRecord(row: StatusColumns, state: JobState): StatusRecord {
  const record: StatusRecord = {
    id: row.id,
    job: row.job,
    queue: row.queue,
    priority: row.priority,
    state,
    executions: row.executions,
    enqueuedAt: row.enqueued_at,
    runAt: row.run_at,
    updatedAt: row.updated_at,
  };
  if (row.progress) record.progress = row.progress;
  if (row.result !== null) record.result = row.result;
  if (row.error) record.error = row.error;
  if (row.started_at) record.startedAt = row.started_at;
  if (row.finished_at) record.finishedAt = row.finished_at;
  return record;
}
