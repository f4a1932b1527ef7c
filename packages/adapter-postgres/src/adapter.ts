/**
 * The PostgreSQL adapter. Every contract operation is one statement from `sql/queries`
 * (bulk through `unnest` arrays), run on the adapter's pool — or, for a transactional
 * enqueue, on the caller's own client inside its transaction.
 *
 * Background upkeep rides on `reserve`, throttled, so no timer runs while nobody works:
 * expired leases are put back (at most every `leaseCheckMs`), and finished jobs past
 * retention are deleted in bounded steps (at most every `retentionCheckMs`).
 *
 * @module
 */
import pg from "pg";

import {
  AdapterError,
  ConfigError,
  ConnectionError,
  baseCapabilities,
  type Adapter,
  type AdapterCapabilities,
  type DeadJob,
  type EnqueueOptions,
  type EnqueueResult,
  type ExtendLeaseOptions,
  type GetStatusOptions,
  type JobState,
  type ListDeadOptions,
  type MigrateResult,
  type PurgeDeadOptions,
  type QueueInfo,
  type Reservation,
  type ReserveOptions,
  type RetryDeadOptions,
  type SetProgressOptions,
  type SettleOptions,
  type StatusRecord,
  type StoredError,
} from "@errand/core/adapter";

import { Listener } from "./listener.js";
import { statusRecord, type StatusColumns } from "./status-row.js";
import { MigrationGate } from "./migrate.js";
import { loadQueries, quoteSchema, type QueryName } from "./sql.js";
import { checkAdapterOptions } from "./options.js";

/** Options of the PostgreSQL adapter (`adapter: { use: "postgres", ... }`). */
export interface PostgresAdapterOptions {
  /** Connection URL (`postgres://user:pass@host:5432/db`). Give this or `pool`. */
  url?: string;
  /** The app's own `pg.Pool`; Errand uses it and does not end it on close. */
  pool?: pg.Pool;
  /** Schema holding Errand's tables. Default `"errand"`. */
  schema?: string;
  /** Pool size when Errand makes the pool from `url`. Default 10. */
  poolSize?: number;
  /** `statement_timeout` for Errand's connections, in ms. Default 30,000; 0 disables. */
  statementTimeoutMs?: number;
  /** Apply pending migrations on first use. Default true; set false to run `errand migrate` yourself. */
  migrate?: boolean;
  /** Keep finished (succeeded, discarded) jobs this long, in ms. Default 24 h. Dead jobs stay until purged. */
  retentionMs?: number;
  /** Keep at most this many finished jobs. Default 100,000. */
  maxFinished?: number;
  /** How often reserve looks for expired leases, in ms. Default 1,000. */
  leaseCheckMs?: number;
  /** How often reserve deletes finished jobs past retention, in ms. Default 60,000. */
  retentionCheckMs?: number;
}

interface StatusRow extends StatusColumns {
  /** The jobs table's own state (`available` covers queued, scheduled and retrying). */
  state: string;
  future: boolean;
}

interface ReservedRow {
  id: string;
  body: string;
  lease_token: string;
  executions: number;
  ord: string | number;
  priority: number;
  run_at: Date;
  seq: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// PostgreSQL's own "connection gone" codes (admin shutdown, crash, cannot connect); Node's
// socket codes are mapped by core's adapter client.
const CONNECTION_CODES = new Set(["57P01", "57P02", "57P03", "08006", "08001", "08003", "08004"]);

function statusState(row: StatusRow): JobState {
  if (row.state === "available") return row.error ? "retrying" : row.future ? "scheduled" : "queued";
  return row.state as JobState;
}

/** Jobs in PostgreSQL. */
export class PostgresAdapter implements Adapter {
  /** What PostgreSQL supports, known before any adapter is built. */
  static readonly capabilities: AdapterCapabilities = Object.freeze({
    ...baseCapabilities,
    transactionalEnqueue: true,
    durable: true,
    blockingReserve: true,
    wildcardQueues: true,
    maxPriority: 2_147_483_647, // the priority column is an integer (int4)
    // 20k jobs go as four statements, two in flight over the pool (core sends the chunks).
    maxBatchSize: 5000,
    // Reserve and settle cost a round trip, a plan and a commit each, and little per job in
    // the batch: fast jobs drain 1.4× faster with a buffer of 1,000 than of 200 (bench/postgres).
    maxPrefetch: 1000,
  });
  readonly name = "postgres";
  readonly capabilities = PostgresAdapter.capabilities;
  /** The pool Errand's statements run on. */
  readonly pool: pg.Pool;
  /** The schema in use. */
  readonly schema: string;
  private readonly ownsPool: boolean;
  private readonly queries: Record<QueryName, string>;
  private readonly listener: Listener;
  private readonly channel: string;
  private readonly options: Required<Pick<PostgresAdapterOptions, "retentionMs" | "maxFinished" | "leaseCheckMs" | "retentionCheckMs">>;
  private readonly migrations: MigrationGate;
  private nextLeaseCheck = 0;
  private nextRetention = 0;
  private closed = false;

  constructor(options: PostgresAdapterOptions) {
    checkAdapterOptions(options);
    this.schema = options.schema ?? "errand";
    quoteSchema(this.schema);
    if (!options.pool && !options.url) {
      throw new ConfigError("postgres adapter: give { url } (or ERRAND_URL=postgres://...) or your own { pool }");
    }
    const statementTimeout = options.statementTimeoutMs ?? 30_000;
    this.ownsPool = !options.pool;
    this.pool =
      options.pool ??
      new pg.Pool({
        connectionString: options.url,
        max: options.poolSize ?? 10,
        ...(statementTimeout > 0 ? { statement_timeout: statementTimeout } : {}),
        application_name: "errand",
      });
    // An idle pooled client that the server drops emits "error" on the pool; the next query
    // gets a fresh connection. Without a listener Node would crash the process.
    this.pool.on("error", () => undefined);
    this.queries = loadQueries(this.schema);
    this.channel = `errand:${this.schema}`;
    const connection: pg.ClientConfig = options.url
      ? { connectionString: options.url, application_name: "errand-listener" }
      : { ...(this.pool.options as pg.ClientConfig), application_name: "errand-listener" };
    this.listener = new Listener(connection, this.channel, () => undefined);
    this.migrations = new MigrationGate(this.pool, this.schema, options.migrate ?? true);
    this.options = {
      retentionMs: options.retentionMs ?? 86_400_000,
      maxFinished: options.maxFinished ?? 100_000,
      leaseCheckMs: options.leaseCheckMs ?? 1000,
      retentionCheckMs: options.retentionCheckMs ?? 60_000,
    };
  }

  /** Runs pending migrations once, before the first statement, when `migrate` is on. */
  private prepare(): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the postgres adapter is closed"));
    return this.migrations.whenReady();
  }

  private query<R extends pg.QueryResultRow>(name: QueryName, values: unknown[], client?: pg.ClientBase): Promise<pg.QueryResult<R>> {
    // Once migrated, the statement goes out in this turn of the event loop: the first chunk
    // of a bulk enqueue is on its way to PostgreSQL while the next one is stringified.
    if (this.migrations.applied && !this.closed) return (client ?? this.pool).query<R>(this.queries[name], values);
    return this.prepare().then(() => (client ?? this.pool).query<R>(this.queries[name], values));
  }

  async migrate(): Promise<MigrateResult> {
    return { applied: await this.migrations.run() };
  }

  async enqueue({ jobs, transaction }: EnqueueOptions): Promise<EnqueueResult[]> {
    if (jobs.length === 0) return [];
    const client = transaction as pg.ClientBase | undefined;
    if (client !== undefined && typeof client.query !== "function") {
      throw new ConfigError("postgres adapter: set({ transaction }) takes a pg client (Client or PoolClient) inside BEGIN");
    }
    const first = jobs[0]!;
    const uniform = jobs.every(
      (job) => job.job === first.job && job.queue === first.queue && job.priority === first.priority && job.executions === first.executions,
    );
    const payloads = JSON.stringify(jobs);
    if (uniform) {
      await this.query("enqueue-uniform", [payloads, first.job, first.queue, first.priority, first.executions, this.channel], client);
    } else {
      await this.query("enqueue", [payloads, this.channel], client);
    }
    return jobs.map((job) => ({ jobId: job.id, providerJobId: job.id }));
  }

  async reserve({ queues, max, leaseMs, waitMs, signal, workerId }: ReserveOptions): Promise<Reservation[]> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      await this.upkeep();
      const mark = this.listener.mark();
      const { rows } =
        queues === "*"
          ? await this.query<ReservedRow>("reserve-any", [max, leaseMs, workerId])
          : await this.query<ReservedRow>("reserve-queues", [queues, max, leaseMs, workerId]);
      if (rows.length > 0) {
        // UPDATE ... RETURNING does not keep the picking order: restore it.
        rows.sort(
          (a, b) =>
            Number(a.ord) - Number(b.ord) ||
            a.priority - b.priority ||
            a.run_at.getTime() - b.run_at.getTime() ||
            Number(a.seq) - Number(b.seq),
        );
        return rows.map((row) => ({ providerJobId: row.id, body: row.body, handle: row.lease_token, deliveries: row.executions }));
      }
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted || this.closed) return [];
      await this.listener.wait(queues, Math.min(left, this.options.leaseCheckMs), signal, mark);
    }
  }

  /** Expired leases back to available, and retention — each at most as often as configured. */
  private async upkeep(): Promise<void> {
    const now = Date.now();
    if (now >= this.nextLeaseCheck) {
      this.nextLeaseCheck = now + this.options.leaseCheckMs;
      await this.query("expire-leases", []);
    }
    if (now >= this.nextRetention) {
      this.nextRetention = now + this.options.retentionCheckMs;
      await this.query("retention", [this.options.retentionMs, this.options.maxFinished, 10_000]);
    }
  }

  async settle({ settlements }: SettleOptions): Promise<void> {
    if (settlements.length === 0) return;
    const column = <T>(read: (s: (typeof settlements)[number]) => T) => settlements.map(read);
    if (settlements.every((s) => s.outcome === "succeeded")) {
      await this.query("settle-succeeded", [
        column((s) => s.reservation.providerJobId),
        column((s) => s.reservation.handle),
        column((s) => (s.outcome === "succeeded" ? (s.result ?? null) : null)),
      ]);
      return;
    }
    await this.query("settle", [
      column((s) => s.reservation.providerJobId),
      column((s) => s.reservation.handle),
      column((s) => (s.outcome === "retry" || s.outcome === "released" ? "available" : s.outcome)),
      column((s) => (s.outcome === "retry" || (s.outcome === "dead" && s.payload) ? JSON.stringify(s.payload) : null)),
      column((s) => (s.outcome === "retry" ? s.runAt : null)),
      column((s) => (s.outcome === "retry" ? s.payload.queue : null)),
      column((s) => (s.outcome === "retry" ? s.payload.priority : null)),
      column((s) => (s.outcome === "succeeded" ? (s.result ?? null) : null)),
      column((s) => ("error" in s ? JSON.stringify(s.error) : null)),
      column((s) => s.outcome === "released"),
    ]);
  }

  async extendLease({ reservations, leaseMs }: ExtendLeaseOptions): Promise<string[]> {
    if (reservations.length === 0) return [];
    const { rows } = await this.query<{ id: string }>("extend-leases", [
      reservations.map((r) => r.providerJobId),
      reservations.map((r) => r.handle),
      leaseMs,
    ]);
    const held = new Set(rows.map((row) => row.id));
    return reservations.map((r) => r.providerJobId).filter((id) => !held.has(id));
  }

  async setProgress({ updates }: SetProgressOptions): Promise<void> {
    if (updates.length === 0) return;
    await this.query("set-progress", [
      updates.map((update) => update.jobId),
      updates.map((update) => JSON.stringify(update.message === undefined ? { fraction: update.fraction } : { fraction: update.fraction, message: update.message })),
    ]);
  }

  async getStatus({ ids }: GetStatusOptions): Promise<(StatusRecord | null)[]> {
    const valid = ids.filter((id) => UUID.test(id));
    const { rows } = valid.length ? await this.query<StatusRow>("get-status", [valid]) : { rows: [] as StatusRow[] };
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => {
      const row = byId.get(id.toLowerCase());
      if (!row) return null;
      return statusRecord(row, statusState(row));
    });
  }

  async listQueues(): Promise<QueueInfo[]> {
    const { rows } = await this.query<Record<string, string>>("list-queues", []);
    return rows.map((row) => ({
      name: row.queue!,
      queued: Number(row.queued),
      scheduled: Number(row.scheduled),
      running: Number(row.running),
      retrying: Number(row.retrying),
      dead: Number(row.dead),
    }));
  }

  async listDead({ queue, limit = 100, offset = 0 }: ListDeadOptions): Promise<DeadJob[]> {
    const { rows } = await this.query<{ id: string; queue: string; body: string; error: StoredError; finished_at: Date }>("list-dead", [
      queue ?? null,
      limit,
      offset,
    ]);
    return rows.map((row) => ({ id: row.id, providerJobId: row.id, queue: row.queue, body: row.body, error: row.error, diedAt: row.finished_at }));
  }

  /** Runs `work` in a transaction on a pooled client. */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.prepare();
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private selectDead(client: pg.PoolClient, select: RetryDeadOptions["select"]) {
    const ids = "ids" in select ? select.ids.filter((id) => UUID.test(id)) : null;
    const queue = "all" in select ? (select.queue ?? null) : null;
    return this.query<{ id: string; body: string; queue: string }>("select-dead", [ids, queue], client);
  }

  async retryDead({ select, revive }: RetryDeadOptions): Promise<number> {
    return this.transaction(async (client) => {
      const { rows } = await this.selectDead(client, select);
      const revived: { id: string; body: string; queue: string; priority: number }[] = [];
      for (const row of rows) {
        const job = revive(row.body);
        if (job) revived.push({ id: row.id, body: job.body, queue: job.payload.queue, priority: job.payload.priority });
      }
      if (revived.length === 0) return 0;
      const result = await this.query(
        "revive",
        [revived.map((r) => r.id), revived.map((r) => r.body), revived.map((r) => r.queue), revived.map((r) => r.priority)],
        client,
      );
      await client.query("SELECT pg_notify($1, queue) FROM (SELECT DISTINCT unnest($2::text[]) AS queue) AS q", [
        this.channel,
        revived.map((r) => r.queue),
      ]);
      return result.rowCount ?? 0;
    });
  }

  async purgeDead({ select }: PurgeDeadOptions): Promise<number> {
    return this.transaction(async (client) => {
      const { rows } = await this.selectDead(client, select);
      if (rows.length === 0) return 0;
      const result = await this.query("purge-dead", [rows.map((row) => row.id)], client);
      return result.rowCount ?? 0;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.listener.close();
    if (this.ownsPool) await this.pool.end();
  }

  mapError(error: unknown, operation: string): Error | undefined {
    const code = (error as { code?: string } | undefined)?.code;
    if (code && CONNECTION_CODES.has(code)) return new ConnectionError(this.name, operation, error);
    if (code === "42P01") {
      // undefined_table: the schema was never migrated (migrate: false).
      const hint = new Error(`${(error as Error).message}; run \`errand migrate\` to create Errand's tables in schema "${this.schema}"`);
      return new AdapterError(this.name, operation, hint);
    }
    return undefined;
  }
}
