/**
 * Migrated PostgreSQL schemas reused from case to case, for suites that want a fresh schema
 * per case (the conformance suite: ~160 cases per wiring).
 *
 * Why: migrating a schema (17 migrations, 40 tables, their functions and triggers) took
 * 0.9–1.7 s on the 2-core CI machine under load and dropping it 0.3 s, paid by every case;
 * emptying a migrated one takes tens of milliseconds. The PostgreSQL wirings spent most of
 * their 113–243 s there (2026-12-04), and the afterAll dropping ~160 schemas outran its 30 s
 * hook timeout under load.
 *
 * A schema's life, as states:
 *
 * - `in use`: handed out by {@link SchemaPool.take}; each adapter or store opened on it
 *   (the case's own and its peers) holds it, through {@link SchemaPool.hold}.
 * - `in use` → `free` when the last holder has closed. A schema whose users never close is
 *   never reused (the pool just migrates another).
 * - `free` → `in use` when a case takes it: every table but `migrations` is truncated and
 *   every sequence restarted first, so the case sees what a new schema shows. If that
 *   cannot be done within 2 s (a stray connection holding a lock), the schema is left for
 *   afterAll and a new one is handed out instead.
 *
 * Nothing else of a schema outlives its users: LISTEN channels, session advisory locks and
 * prepared statements belong to connections, which closing ended.
 *
 * @module
 */
import pg from "pg";

import { dropSchemas, schemaName } from "./postgres.js";

/** Something that holds a schema until it is closed. */
interface Closable {
  close(): Promise<void>;
}

/** Fresh-looking migrated schemas for one test file; {@link SchemaPool.drop} in afterAll. */
export class SchemaPool {
  private readonly all: string[] = [];
  private readonly free: string[] = [];
  private readonly holders = new Map<string, number>();
  /** Each schema's tables and sequences, read once: the catalog views took ~230 ms a read here. */
  private readonly layout = new Map<string, { kind: string; name: string }[]>();

  /** One connection for the emptying, opened on first use (a connect took ~30 ms a case). */
  private readonly db: pg.Pool;

  constructor(
    private readonly url: string,
    private readonly prefix = "errand_t",
  ) {
    this.db = new pg.Pool({ connectionString: url, max: 1 });
  }

  /** A schema nobody uses: an emptied one when there is one, else a new name (the adapter migrates it). */
  async take(): Promise<string> {
    while (this.free.length > 0) {
      const schema = this.free.pop()!;
      if (await this.empty(schema)) return this.claim(schema);
    }
    const schema = schemaName(this.prefix);
    this.all.push(schema);
    return this.claim(schema);
  }

  /**
   * Makes `user` a holder of `schema` until its `close()` resolves; returns `user`.
   * Every adapter or store opened on a taken schema goes through here, or the schema could be
   * emptied under it.
   */
  hold<T extends Closable>(schema: string, user: T): T {
    this.holders.set(schema, (this.holders.get(schema) ?? 0) + 1);
    const close = user.close.bind(user);
    let closed = false;
    user.close = async () => {
      await close();
      if (closed) return;
      closed = true;
      const left = this.holders.get(schema)! - 1;
      this.holders.set(schema, left);
      if (left === 0) this.free.push(schema);
    };
    return user;
  }

  /** Drops every schema this pool made, and closes its connection. */
  async drop(): Promise<void> {
    await this.db.end();
    await dropSchemas(this.url, this.all);
  }

  private claim(schema: string): string {
    this.holders.set(schema, 0);
    return schema;
  }

  /** The tables (but `migrations`) and sequences of `schema`. */
  private async relations(client: pg.PoolClient, schema: string): Promise<{ kind: string; name: string }[]> {
    let rows = this.layout.get(schema);
    if (!rows) {
      // A schema whose adapter closed before it migrated has no tables yet (or does not
      // exist): nothing to empty, and nothing cached, as its next user migrates it.
      const result = await client.query<{ kind: string; name: string }>(
        `SELECT CASE relkind WHEN 'S' THEN 'sequence' ELSE 'table' END AS kind, relname AS name FROM pg_class
          WHERE relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1) AND relkind IN ('r', 'S') AND relname <> 'migrations'`,
        [schema],
      );
      rows = result.rows;
      if (rows.length > 0) this.layout.set(schema, rows);
    }
    return rows;
  }

  /** Empties every table but `migrations` and restarts every sequence; false when it could not. */
  private async empty(schema: string): Promise<boolean> {
    const client = await this.db.connect();
    try {
      const rows = await this.relations(client, schema);
      const quote = (name: string) => `"${schema}"."${name}"`;
      // One round trip. DELETE, not TRUNCATE: TRUNCATE gives each of the ~40 tables and their
      // indexes new files, 360–980 ms in all here; deleting the few rows a case left is
      // cheap. Triggers (the count log's, foreign keys') are off for it: replica role.
      await client.query(
        [
          "BEGIN",
          "SET LOCAL lock_timeout = '2s'",
          "SET LOCAL session_replication_role = replica",
          ...rows.map((row) => (row.kind === "table" ? `DELETE FROM ${quote(row.name)}` : `ALTER SEQUENCE ${quote(row.name)} RESTART`)),
          "COMMIT",
        ].join(";\n"),
      );
      return true;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      // 55P03 lock_not_available: somebody still holds a table; anything else is a real fault.
      if ((error as { code?: string }).code === "55P03") return false;
      throw error;
    } finally {
      client.release();
    }
  }
}
