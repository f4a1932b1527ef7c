/**
 * Errand with Drizzle: joined on PostgreSQL (node-postgres, postgres.js, PGlite or any
 * Drizzle PostgreSQL driver whose `execute` answers rows); on MySQL (`MySqlDialect`, e.g.
 * `drizzle-orm/mysql2`) and SQLite the connection names the dialect and jobs wait for the
 * commit.
 *
 * - {@link drizzleConnection}: the `tx` of `db.transaction(async (tx) => …)` as a
 *   `TransactionConnection`; Errand's `$n` statements become Drizzle `sql` with params.
 * - {@link drizzleModel}: the finders of a table as `registerModel` options (their records
 *   come back branded), and {@link asModel}: brands a record you loaded yourself.
 *
 * @module
 */
import { withTransaction, brandModel, ConfigError, type ModelOptions, type TransactionConnection } from "@errand/core";
import { entityKind, getTableColumns, getTableName, inArray, eq, sql, type SQL, type Table, type Column } from "drizzle-orm";

import { brandResult, connection, expectObject } from "./shared.js";
import { parameter, splitParameters } from "./sql-text.js";

/** What Errand uses of a Drizzle transaction. */
export interface DrizzleTransactionLike {
  /** Present on PostgreSQL drivers; SQLite transactions have run/all instead. */
  execute?(query: SQL): PromiseLike<unknown>;
  /** Drizzle's dialect object, whose class's entity kind names the database. */
  dialect?: unknown;
}

const DRIZZLE_DIALECTS: Record<string, string> = {
  PgDialect: "postgres",
  MySqlDialect: "mysql",
  SingleStoreDialect: "singlestore",
  SQLiteSyncDialect: "sqlite",
  SQLiteAsyncDialect: "sqlite",
  GelDialect: "gel",
};

/** The dialect of a Drizzle database or transaction, from its dialect's entity kind. */
function dialectOf(tx: DrizzleTransactionLike): string {
  const kind = (tx.dialect as { constructor?: Record<symbol, unknown> } | undefined)?.constructor?.[entityKind];
  if (typeof kind !== "string") throw new ConfigError("drizzleConnection: cannot tell the Drizzle database's dialect (tx.dialect)");
  return DRIZZLE_DIALECTS[kind] ?? kind.replace(/Dialect$/, "").toLowerCase();
}

/** A `$n` statement as Drizzle `sql`: the text raw, each `$n` a bound param. */
export function toDrizzleSql(text: string, values: readonly unknown[]): SQL {
  return sql.join(splitParameters(text).map((piece) => ("param" in piece ? sql`${parameter(values, piece.param)}` : sql.raw(piece.sql))));
}

/**
 * Turns a Drizzle transaction into a `TransactionConnection` (a MySQL or SQLite one has no
 * `query`).
 *
 * @example
 * await db.transaction(async (tx) => {
 *   const [user] = await tx.insert(users).values({ email }).returning();
 *   await Welcome.set({ transaction: drizzleConnection(tx) }).performLater(user.id);
 * });
 */
export function drizzleConnection(transaction: DrizzleTransactionLike | object): TransactionConnection {
  const tx = transaction as DrizzleTransactionLike;
  expectObject("drizzleConnection", tx as unknown, "a Drizzle transaction (the tx of db.transaction(async (tx) => …))");
  // Drizzle's transactions (every dialect's) have rollback(); its databases do not.
  if (typeof (tx as { rollback?: unknown }).rollback !== "function") {
    throw new ConfigError("drizzleConnection: expected a Drizzle transaction, got a database outside one; pass the tx of db.transaction(async (tx) => …)");
  }
  const dialect = dialectOf(tx);
  if (dialect === "postgres" && typeof tx.execute !== "function") throw new ConfigError("drizzleConnection: expected a Drizzle transaction (it has no execute)");
  return connection("drizzle", dialect, async (text, values) => {
    const result = (await tx.execute!(toDrizzleSql(text, values))) as { rows?: Record<string, unknown>[] } | Record<string, unknown>[];
    return { rows: Array.isArray(result) ? [...result] : (result.rows ?? []) };
  });
}

/**
 * Runs `fn` in a Drizzle transaction (`db.transaction`) that Errand sees: every job made
 * inside joins it on the PostgreSQL adapter, goes to the outbox, or waits for its commit
 * (docs/transactions.md); after a rollback none exists. `config` is Drizzle's own.
 *
 * @example
 * await transaction(db, async (tx) => {
 *   const [user] = await tx.insert(users).values({ email }).returning();
 *   await WelcomeJob.performLater(user.id);
 * });
 */
export function transaction<Tx extends object, T, Config = unknown>(
  db: { transaction<R>(fn: (tx: Tx) => Promise<R>, config?: Config): Promise<R> },
  fn: (tx: Tx) => Promise<T>,
  config?: Config,
): Promise<T> {
  return withTransaction<Tx, T>((body) => db.transaction((tx) => body(drizzleConnection(tx), tx), config), fn);
}

const modelNames = new WeakMap<Table, string>();

/** Options of {@link drizzleModel}. */
export interface DrizzleModelOptions {
  /** The model name (in gids and `registerModel`). Default: the table's name. */
  name?: string;
  /** The id column. Default: the table's single primary-key column. */
  id?: Column;
}

/** What {@link drizzleModel} uses of a Drizzle database. */
export interface DrizzleDatabaseLike {
  /** `db.select().from(table).where(…)`: how the finders load records. */
  select(): { from(table: Table): { where(where: SQL | undefined): PromiseLike<unknown[]> } };
}

/**
 * The `registerModel` options (with `name`) for a Drizzle table: `find` by id and one
 * `where id in (…)` for all the references of a job; the records they load are branded.
 * Remembers the name for {@link asModel}.
 *
 * @example
 * const userModel = drizzleModel(db, users, { name: "User" });
 * registerModel("User", userModel);
 * await Welcome.performLater(asModel(users, await db.query.users.findFirst()));
 */
export function drizzleModel<T extends object = Record<string, unknown>>(db: DrizzleDatabaseLike, table: Table, options: DrizzleModelOptions = {}): ModelOptions<T, unknown> & { name: string } {
  expectObject("drizzleModel", db, "a Drizzle database");
  if (typeof db.select !== "function") throw new ConfigError("drizzleModel: expected a Drizzle database (it has no select)");
  for (const key of Object.keys(options)) if (key !== "id" && key !== "name") throw new ConfigError(`drizzleModel: unknown option "${key}"`);
  const name = options.name ?? getTableName(table);
  const columns = Object.entries(getTableColumns(table));
  const primary = columns.filter(([, column]) => column.primary);
  const idColumn = options.id ?? (primary.length === 1 ? primary[0]![1] : undefined);
  if (!idColumn) throw new ConfigError(`drizzleModel: table "${getTableName(table)}" has ${primary.length} primary-key columns; pass { id: table.column }`);
  const key = columns.find(([, column]) => column === idColumn)?.[0];
  if (key === undefined) throw new ConfigError(`drizzleModel: the id column "${idColumn.name}" is not a column of table "${getTableName(table)}"`);
  modelNames.set(table, name);
  const load = async (where: SQL): Promise<T[]> => {
    const rows = (await db.select().from(table).where(where)) as T[];
    brandResult(rows, name);
    return rows;
  };
  return {
    name,
    find: async (id) => (await load(eq(idColumn, id)))[0],
    findMany: (ids) => load(inArray(idColumn, ids)),
    id: (record) => (record as Record<string, unknown>)[key],
  };
}

/**
 * Brands a record (or each record of an array) loaded from `table` as a record of the model
 * {@link drizzleModel} named for it, or of the model named `table` when it is a string.
 * Returns what it was given.
 */
export function asModel<R extends object>(table: Table | string, records: R): R {
  const name = typeof table === "string" ? table : modelNames.get(table);
  if (name === undefined) throw new ConfigError(`asModel: table "${getTableName(table as Table)}" has no model; call drizzleModel(db, table) first`);
  if (Array.isArray(records)) brandResult(records, name);
  else brandModel(records, name);
  return records;
}
