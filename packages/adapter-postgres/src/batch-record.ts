/**
 * A batch row as the contract's `BatchRecord`, for both of this package's batch tables: the
 * adapter's `job_batches` (migration 019, `batch-get.sql`) and the status store's
 * `store_batches` (migration 020, `status-batch-get.sql`, the SQS adapter's batches). Both
 * queries return the same columns.
 *
 * @module
 */
import type { BatchCallbackKind, BatchRecord } from "@errand/core/adapter";

/** A row of `batch-get.sql` or `status-batch-get.sql`: the record's id, state and counts, and these. */
export interface BatchRow extends Pick<BatchRecord, "id" | "state" | "total" | "pending" | "succeeded" | "discarded" | "dead" | "failed"> {
  description: string | null;
  /** The kinds of callback the batch was opened with (the keys of its `callbacks`). */
  kinds: BatchCallbackKind[];
  /** Kind → the job id of each callback stored so far. */
  enqueued: Partial<Record<BatchCallbackKind, string>>;
  created_at: Date;
  finished_at: Date | null;
}

/** A stored row as the contract's record. */
export function batchRecord(row: BatchRow): BatchRecord {
  const callbacks: Partial<Record<BatchCallbackKind, true>> = {};
  for (const kind of row.kinds) callbacks[kind] = true;
  const record: BatchRecord = {
    id: row.id,
    state: row.state,
    total: row.total,
    pending: row.pending,
    succeeded: row.succeeded,
    discarded: row.discarded,
    dead: row.dead,
    failed: row.failed,
    callbacks,
    enqueuedCallbacks: { ...row.enqueued },
    createdAt: row.created_at.toISOString(),
  };
  if (row.description !== null) record.description = row.description;
  if (row.finished_at !== null) record.finishedAt = row.finished_at.toISOString();
  return record;
}
