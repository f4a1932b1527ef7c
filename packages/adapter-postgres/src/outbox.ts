/**
 * `PostgresOutbox`: the transactional outbox of issue 16 (docs/transactions-outbox.md). Jobs
 * made inside the app's transaction for an adapter that cannot join it (Redis, SQS) are
 * written to `<schema>.outbox` through the app's own connection (migration 016); the relay
 * sends them to their adapter and deletes them.
 *
 * The relay, as states:
 *
 * - `connecting`: opens a dedicated connection (not pooled: it holds a session lock and
 *   LISTENs).
 * - `standby`: tries the outbox's session advisory lock (`errand:outbox:<schema>`) every
 *   `pollMs`. One relay per schema is the leader, so rows leave in `seq` order whatever the
 *   number of relays; the others are hot spares. A leader killed (kill -9) or cut off loses
 *   its session, and with it the lock: a spare takes over within `pollMs`.
 * - `leading`: LISTENs on `errand:<schema>:outbox` (each write NOTIFYs it, delivered at
 *   commit), then in rounds: read the oldest `batchSize` rows, send them per adapter (in
 *   `seq` order), delete those sent. A full round goes on at once; otherwise it waits for a
 *   notification or `pollMs` (the fallback when a NOTIFY was missed).
 * - a failed round (the target down) is reported to `onError`, its rows stay, and the next
 *   round after `pollMs` sends them again, oldest first. A lost connection is reported and
 *   the relay goes back to `connecting` after `pollMs`.
 * - `stopped`: the signal aborted; the connection (and lock) is released.
 *
 * Sent but not yet deleted (the relay killed in between, or its DELETE lost): the next
 * leader sends those rows again, so `send` must be idempotent by job id in the target.
 *
 * @module
 */
import pg from "pg";

import type { Outbox, OutboxJob, OutboxRelayOptions, TransactionConnection } from "@errand/core";
import {
  ConfigError,
  MigrationGate,
  WakeSignal,
  decodePayload,
  encodePayload,
  rules,
  validateOptions,
  type JobPayload,
  type OptionSchema,
} from "@errand/core/adapter";

import { migrate } from "./migrate.js";
import { channelName, loadQueries, quoteSchema, type QueryName } from "./sql.js";

/** Options of {@link PostgresOutbox}. */
export interface PostgresOutboxOptions {
  /** Connection URL of the app's database (`postgres://user:pass@host:5432/db`). Give this or `pool`. */
  url?: string;
  /** The app's own `pg.Pool`; Errand uses it and does not end it on close. */
  pool?: pg.Pool;
  /** Schema holding the outbox table (and Errand's other tables, if any). Default `"errand"`. */
  schema?: string;
  /** Apply pending migrations on first use. Default true; set false to run `errand migrate` yourself. */
  migrate?: boolean;
  /** Most rows one relay round reads and sends. Default 500. */
  batchSize?: number;
  /**
   * The relay's fallback poll, in ms: how long a leader waits for a NOTIFY before it looks
   * anyway, how often a standby relay tries to lead, and the pause after a failed round.
   * Default 1000.
   */
  pollMs?: number;
}

const OPTIONS: OptionSchema<PostgresOutboxOptions> = {
  url: rules.nonEmptyString,
  pool: rules.withMethods("a pg.Pool", "query", "connect"),
  schema: rules.nonEmptyString,
  migrate: rules.boolean,
  batchSize: rules.integer(1),
  pollMs: rules.integer(1),
};

/** A row the relay read. */
interface OutboxRow {
  seq: string;
  adapter: string | null;
  job_id: string;
  body: string;
}

/** The outbox in PostgreSQL; see the module notes. */
export class PostgresOutbox implements Outbox {
  /** Writes go through connections of dialect `"postgres"`. */
  readonly dialect = "postgres";
  /** The schema in use. */
  readonly schema: string;
  /** The channel each write NOTIFYs at commit: `errand:<schema>:outbox`. */
  readonly channel: string;
  /** The pool migrations run on. */
  readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly clientConfig: pg.ClientConfig;
  private readonly migrations: MigrationGate;
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly queries: Record<QueryName, string>;
  private readonly lockKey: string;
  private readonly relays = new Set<AbortController>();
  private closed = false;

  constructor(options: PostgresOutboxOptions) {
    validateOptions(options, OPTIONS, "the postgres outbox options");
    if (!options.pool && !options.url) throw new ConfigError("postgres outbox: give { url } or your own { pool }");
    this.schema = options.schema ?? "errand";
    quoteSchema(this.schema);
    this.queries = loadQueries(this.schema);
    this.batchSize = options.batchSize ?? 500;
    this.pollMs = options.pollMs ?? 1000;
    this.ownsPool = !options.pool;
    this.pool = options.pool ?? new pg.Pool({ connectionString: options.url, max: 2, application_name: "errand-outbox" });
    if (this.ownsPool) this.pool.on("error", () => undefined);
    this.clientConfig = options.url
      ? { connectionString: options.url, application_name: "errand-relay" }
      : { ...(this.pool.options as pg.ClientConfig), application_name: "errand-relay" };
    this.migrations = new MigrationGate(() => migrate(this.pool, this.schema), options.migrate ?? true);
    this.channel = channelName(this.schema, ":outbox");
    this.lockKey = `errand:outbox:${this.schema}`;
  }

  /** Runs pending migrations once, before the first statement, when `migrate` is on. */
  private prepare(): Promise<void> {
    return this.migrations.whenReady();
  }

  /**
   * Stores `jobs` in the connection's transaction, in one statement: they exist, and are
   * relayed, only if it commits. Throws a `ConfigError` for a connection that is not a
   * PostgreSQL one with `query`.
   */
  async write(connection: TransactionConnection, jobs: readonly OutboxJob[]): Promise<void> {
    if (connection?.dialect !== "postgres" || typeof connection.query !== "function") {
      const what = connection ? `a ${JSON.stringify(connection.dialect)} connection from ${connection.library}${typeof connection.query === "function" ? "" : " without query()"}` : String(connection);
      throw new ConfigError(`postgres outbox: writes need a "postgres" connection with query(), got ${what}`);
    }
    if (this.closed) throw new ConfigError("postgres outbox: write after close()");
    if (jobs.length === 0) return;
    await this.prepare();
    const rows = jobs.map(({ adapter, payload }) => ({ a: adapter ?? null, q: payload.queue, i: payload.id, b: encodePayload(payload) }));
    await connection.query(this.queries["outbox-write"], [this.channel, JSON.stringify(rows)]);
  }

  /** Jobs waiting in the outbox (for tests, benches and health checks). */
  async pending(): Promise<number> {
    await this.prepare();
    const { rows } = await this.pool.query<{ n: string }>(this.queries["outbox-pending"]);
    return Number(rows[0]!.n);
  }

  /**
   * Moves stored jobs to their adapters until `signal` aborts (or `close()`); see the module
   * notes. Throws a `ConfigError` once the outbox is closed.
   */
  async relay({ send, signal, onError }: OutboxRelayOptions): Promise<void> {
    if (typeof send !== "function" || typeof onError !== "function" || !(signal instanceof AbortSignal)) {
      throw new ConfigError("postgres outbox: relay() needs { send, signal, onError }");
    }
    // Closed, the loop below would end at once: a relay that resolves having moved nothing.
    if (this.closed) throw new ConfigError("postgres outbox: relay after close()");
    const stop = new AbortController();
    const stopped = AbortSignal.any([signal, stop.signal]);
    this.relays.add(stop);
    const wake = new WakeSignal();
    try {
      while (!stopped.aborted && !this.closed) {
        const client = new pg.Client(this.clientConfig);
        let lost: Error | undefined;
        client.on("error", (error) => {
          lost = error;
          wake.notify(undefined);
        });
        client.on("end", () => wake.notify(undefined));
        client.on("notification", () => wake.notify(undefined));
        try {
          await this.prepare();
          await client.connect();
          if (!(await this.lead(client, stopped, wake, () => lost))) break;
          await client.query(`LISTEN "${this.channel.replace(/"/g, '""')}"`);
          for (;;) {
            const since = wake.mark();
            const { moved, failed } = await this.round(client, send, onError);
            if (lost) throw lost;
            if (stopped.aborted) break;
            if (moved < this.batchSize || failed) await wake.wait("*", this.pollMs, stopped, failed ? wake.mark() : since);
            if (lost) throw lost;
            if (stopped.aborted) break;
          }
        } catch (error) {
          if (stopped.aborted) break;
          onError(error);
          await wake.wait("*", this.pollMs, stopped, wake.mark());
        } finally {
          await client.end().catch(() => undefined);
        }
      }
    } finally {
      this.relays.delete(stop);
    }
  }

  /** Waits to hold the outbox's lock on `client`: true once it does, false when stopped. */
  private async lead(client: pg.Client, stopped: AbortSignal, wake: WakeSignal, lost: () => Error | undefined): Promise<boolean> {
    for (;;) {
      const { rows } = await client.query<{ leader: boolean }>("SELECT pg_try_advisory_lock(hashtext($1)) AS leader", [this.lockKey]);
      if (rows[0]!.leader) return true;
      await wake.wait("*", this.pollMs, stopped, wake.mark());
      const error = lost();
      if (error) throw error;
      if (stopped.aborted) return false;
    }
  }

  /**
   * One round: the oldest rows, sent per adapter in order, deleted once sent. An adapter
   * whose send fails keeps its rows (reported; the next round sends them first); the other
   * adapters' rows go on.
   */
  private async round(client: pg.Client, send: OutboxRelayOptions["send"], onError: (error: unknown) => void): Promise<{ moved: number; failed: boolean }> {
    const { rows } = await client.query<OutboxRow>(this.queries["outbox-read"], [this.batchSize]);
    if (rows.length === 0) return { moved: 0, failed: false };
    const byAdapter = new Map<string | null, OutboxRow[]>();
    for (const row of rows) {
      const group = byAdapter.get(row.adapter);
      if (group) group.push(row);
      else byAdapter.set(row.adapter, [row]);
    }
    const done: string[] = [];
    let failed = false;
    for (const [adapter, group] of byAdapter) {
      const payloads: JobPayload[] = [];
      for (const row of group) {
        try {
          payloads.push(decodePayload(row.body));
        } catch (error) {
          // Only Errand writes here, so this is a damaged row: it can never be sent, and kept
          // it would block its adapter's rows for good. Reported with the job id, then dropped.
          onError(new ConfigError(`postgres outbox: row ${row.seq} (job ${row.job_id}) is not a job payload, dropped: ${(error as Error).message}`));
          done.push(row.seq);
        }
      }
      try {
        if (payloads.length > 0) await send(adapter ?? undefined, payloads);
        done.push(...group.map((row) => row.seq));
      } catch (error) {
        failed = true;
        onError(error);
      }
    }
    if (done.length > 0) await client.query(this.queries["outbox-delete"], [done]);
    return { moved: done.length, failed };
  }

  /** Stops this process's relays and releases the pool (when Errand made it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const relay of this.relays) relay.abort();
    if (this.ownsPool) await this.pool.end();
  }
}
