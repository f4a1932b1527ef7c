/**
 * Applying the numbered migrations in `sql/migrations`. Several workers may start at once:
 * each takes a transaction-scoped advisory lock for the schema first, so one applies and
 * the others wait, then find nothing left to do. Each migration inserts its own row in
 * `migrations` in the same transaction as its DDL, so a migration is applied exactly once
 * or not at all.
 *
 * @module
 */
import type pg from "pg";

import { ConfigError } from "@errand/core/adapter";

import { loadMigrations, quoteSchema, type Migration } from "./sql.js";

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /**
   * Apply the pending migrations up to and including this one, by its three-digit number
   * (`"009"`), and stop there: for upgrade tests, or to roll a schema change out in steps.
   * A later call without it applies the rest. Default: every pending migration.
   */
  upTo?: string;
}

/**
 * Applies pending migrations to `schema` (all of them, or those up to `options.upTo`);
 * returns the names applied. Throws a `ConfigError` for an unknown option or an `upTo`
 * that names no migration.
 */
export async function migrate(pool: pg.Pool, schema: string, options: MigrateOptions = {}): Promise<string[]> {
  const quoted = quoteSchema(schema);
  const migrations = chosenMigrations(schema, options);
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`errand:migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ id: number }>(`SELECT id FROM ${quoted}.migrations`);
    const done = new Set(rows.map((row) => row.id));
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      await client.query(`INSERT INTO ${quoted}.migrations (id, name) VALUES ($1, $2)`, [migration.id, migration.name]);
      await client.query(migration.sql);
      applied.push(migration.name);
    }
    await client.query("COMMIT");
    return applied;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The migrations `options` asks for, in order; a clear error for options that name none. */
function chosenMigrations(schema: string, options: MigrateOptions): Migration[] {
  if (typeof options !== "object" || options === null) throw new ConfigError("postgres migrate: options must be an object ({ upTo? })");
  for (const key of Object.keys(options)) {
    if (key !== "upTo") throw new ConfigError(`postgres migrate: unknown option ${JSON.stringify(key)} (known: upTo)`);
  }
  const all = loadMigrations(schema);
  if (options.upTo === undefined) return all;
  const last = typeof options.upTo === "string" && /^\d{3}$/.test(options.upTo) ? Number(options.upTo) : NaN;
  if (!all.some((migration) => migration.id === last)) {
    const known = all.map((migration) => migration.name.slice(0, 3)).join(", ");
    throw new ConfigError(`postgres migrate: upTo ${JSON.stringify(options.upTo)} names no migration (known: ${known})`);
  }
  return all.filter((migration) => migration.id <= last);
}
