/**
 * `PostgresStatusStore`: job statuses in PostgreSQL, for a backend that keeps none (the SQS
 * adapter), shared by every process that points at the same database.
 *
 * One row per job in `<schema>.statuses` (migration `004_statuses.sql`, applied with the
 * adapter's other migrations on first use). Every method is one statement from
 * `sql/queries/status-*.sql`, bulk through `unnest` arrays. Settling checks the lease in the
 * statement that writes (`WHERE lease = …`), so a redelivery committed meanwhile wins.
 *
 * Finished statuses carry an `expires_at` `finishedTtlMs` (dead ones `deadTtlMs`) after they
 * finish; reads skip them
 * from then on, and each settle deletes a bounded number of them (twice its batch plus 100),
 * so expired rows go in small steps while jobs run, without a timer.
 *
 * Flow control (`flow`, for the SQS adapter): tables and functions of migration 008, driven
 * by `status-flow.ts`.
 *
 * Batches (`batches`, for the SQS adapter): tables and functions of migration 020, counted by
 * the enqueue, settle and delete statements themselves (`status-batches.ts`).
 *
 * The operator's side (`control`, for the SQS adapter): each live job's body in `body`, two
 * listing indexes, void marks, aborts, pauses, worker beats and throughput (migration 015,
 * `status-control.ts`).
 *
 * Status feed: each statement NOTIFYs the ids whose status it changed on
 * `errand:<schema>:statuses` (JSON arrays, migration 005), and `openFeed` LISTENs on it over a
 * connection of the store's own, made on first use (`listen-connection.ts`, which reconnects
 * after a dropped connection and then calls `onReconnect`).
 *
 * @module
 */
import pg from "pg";

import {
  MigrationGate,
  ConfigError,
  DEAD_STATUS_TTL_MS,
  type JobPayload,
  type JobState,
  type Settlement,
  type StatusFeed,
  type StatusFeedOptions,
  type StatusLease,
  type StatusRecord,
  type StatusStore,
  type FlowPending,
  type StatusStoreBatches,
  type StatusStoreControl,
  type StatusStoreFlow,
  type DiagnoseStoreOptions,
  type StoreDiagnosis,
  type StoredError,
} from "@errand/core/adapter";

import { diagnosePostgres } from "./diagnose.js";
import { ListenConnection } from "./listen-connection.js";
import { migrate } from "./migrate.js";
import { channelName, loadQueries, quoteSchema, type QueryName } from "./sql.js";
import { openStatusFeed } from "./status-feed.js";
import { statusRecord, type StatusColumns } from "./status-row.js";
import { checkStatusStoreOptions } from "./options.js";
import { PostgresStatusFlow } from "./status-flow.js";
import { PostgresStatusControl } from "./status-control.js";
import { PostgresStatusBatches, pendingsOf, type PendingJson } from "./status-batches.js";

/** Options of {@link PostgresStatusStore}. Give `url` or `pool`. */
export interface PostgresStatusStoreOptions {
  /** Connection URL (`postgres://user:pass@host:5432/db`). */
  url?: string;
  /** The app's own `pg.Pool`; the store uses it and does not end it on close. */
  pool?: pg.Pool;
  /** Schema holding the `statuses` table (and Errand's other tables). Default `"errand"`. */
  schema?: string;
  /** How long a succeeded or failed status is kept, in ms. Default 24 h. */
  finishedTtlMs?: number;
  /**
   * How long a dead status is kept (listed and counted), in ms, independent of
   * `finishedTtlMs`. Default 14 days, as long as SQS keeps a dead-letter message, so the
   * operator's dead listing shows what the dead-letter queue holds.
   */
  deadTtlMs?: number;
  /** Apply pending migrations on first use. Default true; set false to run `errand migrate` yourself. */
  migrate?: boolean;
}

interface StatusRow extends StatusColumns {
  state: JobState;
  future: boolean;
}

/**
 * Splits items into rounds in which each id appears at most once, in order. One statement
 * updates a row once whatever the number of input rows naming it, so a job named twice in
 * one call (two deliveries in one batch) takes two statements, applied in turn as the
 * in-memory store applies them. Nearly every call is one round.
 */
function rounds<T extends { id: string }>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  const seen = new Map<string, number>();
  for (const item of items) {
    const round = seen.get(item.id) ?? 0;
    seen.set(item.id, round + 1);
    (result[round] ??= []).push(item);
  }
  return result;
}

/** Statuses in a PostgreSQL table, one row per job; see the module notes. */
export class PostgresStatusStore implements StatusStore {
  /** Every process on the same database and schema sees the same statuses. */
  readonly shared = true;
  /** The pool the store's statements run on. */
  readonly pool: pg.Pool;
  /** The schema in use. */
  readonly schema: string;
  /** The channel every write NOTIFYs its changed ids on: `errand:<schema>:statuses`. */
  readonly statusChannel: string;
  /** Flow control for the SQS adapter (`status-flow.ts`, migration 008). */
  readonly flow: StatusStoreFlow;
  /** The operator's side for the SQS adapter (`status-control.ts`, migration 015). */
  readonly control: StatusStoreControl;
  /** Batches for the SQS adapter (`status-batches.ts`, migration 020). */
  readonly batches: StatusStoreBatches;
  private readonly ownsPool: boolean;
  private readonly listenConfig: pg.ClientConfig;
  private listenConnection: ListenConnection | undefined;
  private readonly queries: Record<QueryName, string>;
  private readonly finishedTtlMs: number;
  private readonly deadTtlMs: number;
  private readonly migrations: MigrationGate;
  private closed = false;

  constructor(options: PostgresStatusStoreOptions) {
    checkStatusStoreOptions(options);
    this.schema = options.schema ?? "errand";
    quoteSchema(this.schema);
    if (!options.pool && !options.url) throw new ConfigError("postgres status store: give { url } or your own { pool }");
    this.finishedTtlMs = options.finishedTtlMs ?? 86_400_000;
    if (!(this.finishedTtlMs >= 1)) throw new ConfigError(`postgres status store: finishedTtlMs must be positive (ms), got ${this.finishedTtlMs}`);
    this.deadTtlMs = options.deadTtlMs ?? DEAD_STATUS_TTL_MS;
    if (!(this.deadTtlMs >= 1)) throw new ConfigError(`postgres status store: deadTtlMs must be positive (ms), got ${this.deadTtlMs}`);
    this.ownsPool = !options.pool;
    this.pool = options.pool ?? new pg.Pool({ connectionString: options.url, application_name: "errand-status" });
    // An idle pooled client that the server drops emits "error" on the pool; the next query
    // gets a fresh connection. Without a listener Node would crash the process.
    if (this.ownsPool) this.pool.on("error", () => undefined);
    this.queries = loadQueries(this.schema);
    this.migrations = new MigrationGate(() => migrate(this.pool, this.schema), options.migrate ?? true);
    this.statusChannel = channelName(this.schema, ":statuses");
    this.listenConfig = options.url
      ? { connectionString: options.url, application_name: "errand-status-listener" }
      : { ...(this.pool.options as pg.ClientConfig), application_name: "errand-status-listener" };
    // The flow queries are loaded with the others (`sql/queries/flow-*.sql`).
    const queries = this.queries as Record<string, string>;
    this.flow = new PostgresStatusFlow({
      query: async (name, values) => {
        await this.prepare();
        return this.pool.query(queries[name]!, values);
      },
      statusChannel: this.statusChannel,
    });
    this.batches = new PostgresStatusBatches({
      query: (name, values) => this.query(name, values),
      statusChannel: this.statusChannel,
      finishedTtlMs: this.finishedTtlMs,
      deadTtlMs: this.deadTtlMs,
    });
    this.control = new PostgresStatusControl({
      query: (name, values) => this.query(name as QueryName, values),
      statusChannel: this.statusChannel,
      finishedTtlMs: this.finishedTtlMs,
      deadTtlMs: this.deadTtlMs,
    });
  }

  /** Runs pending migrations once, before the first statement, when `migrate` is on. */
  private prepare(): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the postgres status store is closed"));
    return this.migrations.whenReady();
  }

  private async query<R extends pg.QueryResultRow>(name: QueryName, values: unknown[]): Promise<pg.QueryResult<R>> {
    await this.prepare();
    return this.pool.query<R>(this.queries[name], values);
  }

  async enqueued(payloads: readonly JobPayload[]): Promise<void> {
    for (const round of rounds(payloads)) {
      await this.query("status-enqueued", [
        round.map((p) => p.id),
        round.map((p) => p.job),
        round.map((p) => p.queue),
        round.map((p) => p.priority),
        round.map((p) => p.executions),
        round.map((p) => p.enqueuedAt),
        round.map((p) => p.runAt),
        this.statusChannel,
        // The body the SQS adapter sends is the same text (`JSON.stringify(payload)`).
        round.map((p) => JSON.stringify(p)),
        // A batch's callback is not counted in it.
        round.map((p) => (p.batch && p.batch.callback === undefined ? p.batch.id : null)),
      ]);
    }
  }

  async started(leases: readonly StatusLease[]): Promise<void> {
    for (const round of rounds(leases)) {
      await this.query("status-started", [round.map((l) => l.id), round.map((l) => l.lease), this.finishedTtlMs, this.statusChannel]);
    }
  }

  async stale(leases: readonly StatusLease[]): Promise<Set<string>> {
    if (leases.length === 0) return new Set();
    const { rows } = await this.query<{ id: string }>("status-stale", [leases.map((l) => l.id), leases.map((l) => l.lease)]);
    return new Set(rows.map((row) => row.id));
  }

  async settled(items: readonly (StatusLease & { settlement: Settlement })[]): Promise<FlowPending[]> {
    const sends: FlowPending[] = [];
    for (const round of rounds(items)) {
      const column = <T>(read: (s: Settlement) => T) => round.map((item) => read(item.settlement));
      const { rows } = await this.query<{ sends: PendingJson[] | null }>("status-settled", [
        round.map((item) => item.id),
        round.map((item) => item.lease),
        column((s) => s.outcome),
        column((s) => (s.outcome === "succeeded" ? (s.result ?? null) : null)),
        column((s) => ("error" in s ? JSON.stringify(s.error) : null)),
        column((s) => (s.outcome === "retry" ? s.runAt.toISOString() : null)),
        column((s) => (s.outcome === "retry" ? s.payload.queue : null)),
        column((s) => (s.outcome === "retry" ? s.payload.priority : null)),
        this.finishedTtlMs,
        2 * round.length + 100,
        this.statusChannel,
        column((s) => (s.outcome === "retry" || (s.outcome === "dead" && s.payload) ? JSON.stringify(s.payload) : null)),
        this.deadTtlMs,
      ]);
      // The callbacks of batches these settlements finished (migration 020).
      sends.push(...pendingsOf(rows[0]?.sends));
    }
    return sends;
  }

  async progress(updates: readonly { id: string; fraction: number; message?: string }[]): Promise<void> {
    for (const round of rounds(updates)) {
      await this.query("status-progress", [
        round.map((u) => u.id),
        round.map((u) => JSON.stringify(u.message === undefined ? { fraction: u.fraction } : { fraction: u.fraction, message: u.message })),
        this.statusChannel,
      ]);
    }
  }

  async get(ids: readonly string[]): Promise<(StatusRecord | null)[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.query<StatusRow>("status-get", [[...new Set(ids)]]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => {
      const row = byId.get(id);
      if (!row) return null;
      // As on the PostgreSQL adapter: a scheduled job whose time has come reads as queued
      // (SQS makes the message visible then), though no write happened at that moment.
      return statusRecord(row, row.state === "scheduled" && !row.future ? "queued" : row.state);
    });
  }

  async delete(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.query("status-delete", [[...ids], this.statusChannel]);
  }

  /**
   * Reports the ids of statuses any process changes through a store on this database and
   * schema; after a dropped connection it reconnects and calls `onReconnect`.
   */
  async openFeed(options: StatusFeedOptions): Promise<StatusFeed> {
    await this.prepare();
    this.listenConnection ??= new ListenConnection(this.listenConfig);
    return openStatusFeed(this.listenConnection, this.statusChannel, options);
  }

  /** Round trip and pending migrations, on a client of its own, never through the migration gate (`diagnose.ts`). */
  async diagnose({ timeoutMs }: DiagnoseStoreOptions): Promise<StoreDiagnosis> {
    const { latencyMs, schema } = await diagnosePostgres(this.pool.options as pg.ClientConfig, this.schema, timeoutMs);
    return { latencyMs, schema };
  }

  /** Applies pending migrations now (`errand migrate` through the SQS adapter); answers their names. */
  migrate(): Promise<string[]> {
    return this.migrations.run();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.listenConnection?.close();
    if (this.ownsPool) await this.pool.end();
  }
}
