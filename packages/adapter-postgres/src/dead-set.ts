/**
 * The PostgreSQL adapter's dead set: listing, reviving and purging dead jobs (rows in state
 * `dead`, kept until purged). Reviving and purging lock the chosen rows first (`FOR UPDATE`)
 * and change them in the same transaction; core decides what a revived job looks like
 * (`revive`). Both NOTIFY the ids they change on the status channel; a revival also wakes the
 * revived jobs' queues.
 *
 * @module
 */
import type pg from "pg";

import type { DeadJob, ListDeadOptions, PurgeDeadOptions, RetryDeadOptions, StoredError } from "@errand/core/adapter";

import type { QueryName } from "./sql.js";
import { expandBody } from "./body.js";
import { isUuid } from "./uuid.js";

/** What the dead set needs of its adapter. */
export interface DeadSetContext {
  pool: pg.Pool;
  /** Runs a named query (on `client` when given), after migrations. */
  query<R extends pg.QueryResultRow>(name: QueryName, values: unknown[], client?: pg.ClientBase): Promise<pg.QueryResult<R>>;
  /** Resolves once migrations are in place. */
  prepare(): Promise<void>;
  wakeChannel: string;
  /** The status channel, or null when the adapter publishes none. */
  statusChannel: string | null;
}

/** A dead job's row as list-dead.sql and select-dead.sql return it: a narrow body comes with what puts it back (body.ts). */
interface DeadRow {
  id: string;
  body: string;
  priority: number;
  run_ms: string | null;
}

const bodyOf = (row: DeadRow) => expandBody(row.body, row.id, row.priority, row.run_ms);

/** Dead jobs of one PostgreSQL adapter. */
export class DeadSet {
  constructor(private readonly context: DeadSetContext) {}

  /** Dead jobs, newest first, of one queue or of all. */
  async list({ queue, limit = 100, offset = 0 }: ListDeadOptions): Promise<DeadJob[]> {
    const { rows } = await this.context.query<DeadRow & { queue: string; error: StoredError; finished_at: Date }>("list-dead", [queue ?? null, limit, offset]);
    return rows.map((row) => ({ id: row.id, providerJobId: row.id, queue: row.queue, body: bodyOf(row), error: row.error, diedAt: row.finished_at }));
  }

  /** Moves the chosen dead jobs back as core revives them; answers how many moved. */
  async retry({ select, revive }: RetryDeadOptions): Promise<number> {
    return this.transaction(async (client) => {
      const { rows } = await this.select(client, select);
      const revived: { id: string; body: string; queue: string; priority: number }[] = [];
      for (const row of rows) {
        const job = revive(bodyOf(row));
        if (job) revived.push({ id: row.id, body: job.body, queue: job.payload.queue, priority: job.payload.priority });
      }
      if (revived.length === 0) return 0;
      const result = await this.context.query<{ moved: string }>(
        "revive",
        [revived.map((r) => r.id), revived.map((r) => r.body), revived.map((r) => r.queue), revived.map((r) => r.priority), this.context.statusChannel],
        client,
      );
      await client.query("SELECT pg_notify($1, queue) FROM (SELECT DISTINCT unnest($2::text[]) AS queue) AS q", [
        this.context.wakeChannel,
        revived.map((r) => r.queue),
      ]);
      return Number(result.rows[0]?.moved ?? 0);
    });
  }

  /** Deletes the chosen dead jobs; answers how many were deleted. */
  async purge({ select }: PurgeDeadOptions): Promise<number> {
    return this.transaction(async (client) => {
      const { rows } = await this.select(client, select);
      if (rows.length === 0) return 0;
      const result = await this.context.query<{ deleted: string }>("purge-dead", [rows.map((row) => row.id), this.context.statusChannel], client);
      return Number(result.rows[0]?.deleted ?? 0);
    });
  }

  /** Locks the dead jobs a selection names. */
  private select(client: pg.PoolClient, select: RetryDeadOptions["select"]) {
    const ids = "ids" in select ? select.ids.filter(isUuid) : null;
    const queue = "all" in select ? (select.queue ?? null) : null;
    return this.context.query<DeadRow & { queue: string }>("select-dead", [ids, queue], client);
  }

  /** Runs `work` in a transaction on a pooled client. */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.context.prepare();
    const client = await this.context.pool.connect();
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
}
