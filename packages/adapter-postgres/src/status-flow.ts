/**
 * `PostgresStatusFlow`: the flow control of {@link PostgresStatusStore} (`store.flow`), for
 * the SQS adapter: unique claims, recurring ticks, concurrency slots, parked jobs, rate windows
 * and the pending sends that close the gap between this store and SQS (see `StatusStoreFlow`).
 *
 * Tables and functions: migration `008_status_store_flow.sql`; each method is one statement
 * from `sql/queries/status-flow-*.sql`, bulk through arrays. Decisions on one key are serialized by
 * advisory locks inside the functions, so every worker and web process sees one order.
 * Retention: the sweep deletes, in bounded steps, ended slots, starts out of their window and
 * unique locks whose holder no longer blocks (a lock never needs to outlive that).
 *
 * @module
 */
import { randomBytes } from "node:crypto";

import type pg from "pg";

import type {
  FlowAcquire,
  FlowClaim,
  FlowClaimResult,
  FlowDecision,
  FlowPending,
  FlowRelease,
  RecurringRecord,
  StatusStoreFlow,
} from "@errand/core/adapter";

/** The flow queries (`sql/queries/status-flow-*.sql`), by name without `.sql`. */
type FlowQuery = "status-flow-claim" | "status-flow-confirm" | "status-flow-undo" | "status-flow-acquire" | "status-flow-extend" | "status-flow-release" | "status-flow-sweep" | "status-flow-recurring" | "status-flow-counts" | "status-flow-bodies";

/** What the store hands its flow. */
export interface PostgresStatusFlowOptions {
  /** Runs a query by name (after the store's migrations). */
  query<R extends pg.QueryResultRow>(name: FlowQuery, values: unknown[]): Promise<pg.QueryResult<R>>;
  statusChannel: string;
}

interface PendingRow {
  id: string;
  token: string;
  queue: string;
  body: string;
  run_at: string;
  taken: string;
}

function pending(row: PendingRow): FlowPending {
  return { id: row.id, token: row.token, queue: row.queue, body: row.body, runAtMs: Number(row.run_at), taken: Number(row.taken) };
}

/** Flow control in PostgreSQL; see the module notes. */
export class PostgresStatusFlow implements StatusStoreFlow {
  constructor(private readonly options: PostgresStatusFlowOptions) {}

  async claim(items: readonly FlowClaim[]): Promise<FlowClaimResult[]> {
    if (items.length === 0) return [];
    const column = <T>(read: (item: FlowClaim) => T) => items.map(read);
    const tokens = column(() => randomBytes(6).toString("hex"));
    const { rows } = await this.options.query<{ claimed: boolean; job: string; taken: string | null }>("status-flow-claim", [
      column((i) => i.payload.id),
      column((i) => i.payload.job),
      column((i) => i.payload.queue),
      column((i) => i.payload.priority),
      column((i) => i.payload.executions),
      column((i) => i.payload.enqueuedAt),
      column((i) => i.payload.runAt),
      column((i) => i.body),
      column((i) => i.payload.flow?.unique?.key ?? null),
      column((i) => i.payload.flow?.unique?.while ?? null),
      column((i) => i.payload.flow?.unique?.forMs ?? null),
      column((i) => i.payload.flow?.recurring?.task ?? null),
      column((i) => i.payload.flow?.recurring?.tick ?? null),
      tokens,
      this.options.statusChannel,
    ]);
    // A status keeps its body (migration 015), which the claim function does not write.
    const claimed = items.filter((_, i) => rows[i]?.claimed);
    if (claimed.length > 0) await this.options.query("status-flow-bodies", [claimed.map((i) => i.payload.id), claimed.map((i) => i.body)]);
    return rows.map((row, i) => {
      if (!row.claimed) return { claimed: false, jobId: row.job };
      const { payload, body } = items[i]!;
      return { claimed: true, pending: { id: payload.id, token: tokens[i]!, queue: payload.queue, body, runAtMs: Date.parse(payload.runAt), taken: Number(row.taken) } };
    });
  }

  async confirm(items: readonly { id: string; token: string }[]): Promise<void> {
    if (items.length === 0) return;
    await this.options.query("status-flow-confirm", [items.map((i) => i.id), items.map((i) => i.token)]);
  }

  async undo(items: readonly { id: string; token: string; taken: number }[]): Promise<void> {
    if (items.length === 0) return;
    await this.options.query("status-flow-undo", [items.map((i) => i.id), items.map((i) => i.token), items.map((i) => i.taken), this.options.statusChannel]);
  }

  async acquire(items: readonly FlowAcquire[]): Promise<FlowDecision[]> {
    if (items.length === 0) return [];
    const { rows } = await this.options.query<{ outcome: string; until: string | null }>("status-flow-acquire", [
      items.map((i) => i.id),
      items.map((i) => i.leaseMs),
      items.map((i) => i.message),
      items.map((i) => i.queue),
      items.map((i) => i.body),
      items.map((i) => i.concurrency?.key ?? null),
      items.map((i) => i.concurrency?.limit ?? null),
      items.map((i) => i.rateLimit?.key ?? null),
      items.map((i) => i.rateLimit?.limit ?? null),
      items.map((i) => i.rateLimit?.perMs ?? null),
      this.options.statusChannel,
    ]);
    return rows.map((row): FlowDecision => {
      if (row.outcome === "l") return { outcome: "leased" };
      if (row.outcome === "p") return { outcome: "parked" };
      return { outcome: "deferred", untilMs: Number(row.until) };
    });
  }

  async extend(items: readonly { id: string; concurrencyKey: string }[], leaseMs: number): Promise<string[]> {
    if (items.length === 0) return [];
    const { rows } = await this.options.query<{ id: string }>("status-flow-extend", [items.map((i) => i.id), items.map((i) => i.concurrencyKey), leaseMs]);
    const extended = new Set(rows.map((row) => row.id));
    return items.filter((i) => !extended.has(i.id)).map((i) => i.id);
  }

  async release(items: readonly FlowRelease[]): Promise<FlowPending[]> {
    // Unique locks need nothing here: the sweep deletes those whose holder no longer blocks.
    const slots = items.filter((i) => i.concurrencyKey !== undefined);
    if (slots.length === 0) return [];
    const { rows } = await this.options.query<PendingRow>("status-flow-release", [slots.map((i) => i.id), slots.map((i) => i.concurrencyKey)]);
    return rows.map(pending);
  }

  async sweep({ claimTimeoutMs, limit }: { claimTimeoutMs: number; limit: number }): Promise<FlowPending[]> {
    const { rows } = await this.options.query<PendingRow>("status-flow-sweep", [claimTimeoutMs, limit]);
    return rows.map(pending);
  }

  async recurringState(tasks: readonly string[]): Promise<(RecurringRecord | null)[]> {
    if (tasks.length === 0) return [];
    const { rows } = await this.options.query<{ task: string; last_tick: Date; job_id: string }>("status-flow-recurring", [[...tasks]]);
    const byTask = new Map(rows.map((row) => [row.task, row]));
    return tasks.map((task) => {
      const row = byTask.get(task);
      return row ? { task, lastTick: row.last_tick, jobId: row.job_id } : null;
    });
  }

  async counts(queues: readonly string[]): Promise<{ parked: number; deferred: number }[]> {
    if (queues.length === 0) return [];
    const { rows } = await this.options.query<{ parked: number; deferred: number }>("status-flow-counts", [[...queues]]);
    return rows.map((row) => ({ parked: row.parked, deferred: row.deferred }));
  }
}
