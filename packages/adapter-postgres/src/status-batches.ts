/**
 * `PostgresStatusBatches`: the batches of {@link PostgresStatusStore} (`store.batches`), for
 * the SQS adapter. Tables and functions: migration `020_status_store_batches.sql`; the
 * counting itself runs inside the store's enqueue, settle and delete statements, and a batch
 * finishing there records its callbacks as pending sends of the flow (migration 008's
 * `store_flow_pending`) in the same statement. Here: `open`, `seal` and `get`, one statement
 * each (`sql/queries/status-batch-*.sql`).
 *
 * @module
 */
import type pg from "pg";

import type { BatchRecord, FlowPending, NewBatch, StatusStoreBatches } from "@errand/core/adapter";

import { batchRecord, type BatchRow } from "./batch-record.js";

/** The batch queries, by name without `.sql`. */
type BatchQuery = "status-batch-open" | "status-batch-seal" | "status-batch-get";

/** What the store hands its batches. */
export interface PostgresStatusBatchesOptions {
  /** Runs a query by name (after the store's migrations). */
  query<R extends pg.QueryResultRow>(name: BatchQuery, values: unknown[]): Promise<pg.QueryResult<R>>;
  statusChannel: string;
  finishedTtlMs: number;
  deadTtlMs: number;
}

/** A pending send as the functions return it (JSON). */
export interface PendingJson {
  id: string;
  token: string;
  queue: string;
  body: string;
  run_at: number | string;
  taken: number | string;
}

/** Pending sends from a function's JSON array (`null`: none). */
export function pendingsOf(sends: PendingJson[] | null | undefined): FlowPending[] {
  return (sends ?? []).map((s) => ({ id: s.id, token: s.token, queue: s.queue, body: s.body, runAtMs: Number(s.run_at), taken: Number(s.taken) }));
}

/** Batches in PostgreSQL; see the module notes. */
export class PostgresStatusBatches implements StatusStoreBatches {
  constructor(private readonly options: PostgresStatusBatchesOptions) {}

  async open(batches: readonly NewBatch[]): Promise<void> {
    if (batches.length === 0) return;
    const records = batches.map((batch) => ({
      id: batch.id,
      description: batch.description ?? null,
      created_at: batch.createdAt,
      callbacks: Object.fromEntries(
        Object.entries(batch.callbacks).flatMap(([kind, payload]) =>
          payload
            ? [[kind, { id: payload.id, job: payload.job, queue: payload.queue, priority: payload.priority, executions: payload.executions, enqueued_at: payload.enqueuedAt, run_at: payload.runAt, body: JSON.stringify(payload) }]]
            : [],
        ),
      ),
    }));
    await this.options.query("status-batch-open", [JSON.stringify(records)]);
  }

  async seal(ids: readonly string[]): Promise<FlowPending[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.options.query<{ sends: PendingJson[] }>("status-batch-seal", [[...ids], this.options.finishedTtlMs, this.options.deadTtlMs, this.options.statusChannel]);
    return pendingsOf(rows[0]?.sends);
  }

  async get(ids: readonly string[]): Promise<(BatchRecord | null)[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.options.query<BatchRow>("status-batch-get", [[...new Set(ids)]]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => {
      const row = byId.get(id);
      return row ? batchRecord(row) : null;
    });
  }
}
