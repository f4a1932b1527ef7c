/**
 * Errand with Knex: {@link knexConnection} turns a Knex transaction (`trx` of
 * `knex.transaction(async (trx) => …)`) into a `TransactionConnection`. On PostgreSQL it
 * runs Errand's statements: Knex binds `?`, not `$n`, so they are rewritten (each `$n`
 * outside literals becomes `?` with its value, and a literal `?` of the text is escaped as
 * `\?`), then run with `trx.raw`. On MySQL (`mysql`, `mysql2`) it only names the dialect:
 * jobs wait for the commit.
 *
 * @module
 */
import { withTransaction, ConfigError, type TransactionConnection } from "@errand/core";

import { connection, expectObject } from "./shared.js";
import { parameter, splitParameters } from "./sql-text.js";

/** What Errand uses of a Knex transaction. */
export interface KnexTransactionLike {
  /** Runs a statement with `?` bindings in the transaction. */
  raw(sql: string, bindings: readonly unknown[]): PromiseLike<unknown>;
  /** Knex's client, whose `dialect` names the database. */
  client: unknown;
}

const KNEX_DIALECTS: Record<string, string> = {
  postgresql: "postgres",
  pg: "postgres",
  pgnative: "postgres",
  cockroachdb: "cockroachdb",
  redshift: "redshift",
  mysql: "mysql",
  mysql2: "mysql",
  sqlite3: "sqlite",
  "better-sqlite3": "sqlite",
  mssql: "mssql",
  oracledb: "oracle",
};

/** The dialect of a Knex client (`trx.client.dialect`: "postgresql", "mysql", …). */
function dialectOf(trx: KnexTransactionLike): string {
  const dialect = (trx.client as { dialect?: unknown } | undefined)?.dialect;
  if (typeof dialect !== "string") throw new ConfigError("knexConnection: cannot tell the Knex client's dialect (trx.client.dialect)");
  return KNEX_DIALECTS[dialect] ?? dialect;
}

/** A `$n` statement as Knex positional bindings: `?` per reference, literal `?` escaped. */
export function toKnexBindings(text: string, values: readonly unknown[]): { sql: string; bindings: unknown[] } {
  const bindings: unknown[] = [];
  let sql = "";
  for (const piece of splitParameters(text)) {
    if ("param" in piece) {
      sql += "?";
      bindings.push(parameter(values, piece.param));
    } else {
      sql += piece.sql.replace(/\?/g, "\\?");
    }
  }
  return { sql, bindings };
}

/**
 * Turns a Knex transaction into a `TransactionConnection` (dialect from its client: a MySQL
 * transaction is "mysql" and has no `query`).
 *
 * @example
 * await knex.transaction(async (trx) => {
 *   const [user] = await trx("users").insert({ email }).returning("*");
 *   await Welcome.set({ transaction: knexConnection(trx) }).performLater(user.id);
 * });
 */
export function knexConnection(trx: KnexTransactionLike): TransactionConnection {
  expectObject("knexConnection", trx, "a Knex transaction (the trx of knex.transaction(async (trx) => …))");
  if (typeof trx.raw !== "function") throw new ConfigError("knexConnection: expected a Knex transaction (it has no raw)");
  if ((trx as { isTransaction?: unknown }).isTransaction !== true) {
    throw new ConfigError("knexConnection: expected a Knex transaction, got a Knex instance outside one; pass the trx of knex.transaction(async (trx) => …)");
  }
  return connection("knex", dialectOf(trx), async (text, values) => {
    const { sql, bindings } = toKnexBindings(text, values);
    const result = (await trx.raw(sql, bindings)) as { rows?: Record<string, unknown>[] };
    return { rows: result.rows ?? [] };
  });
}

/**
 * Runs `fn` in a Knex transaction (`knex.transaction`) that Errand sees: every job made
 * inside joins it on the PostgreSQL adapter, goes to the outbox, or waits for its commit
 * (docs/transactions.md); after a rollback none exists. `config` is Knex's own
 * (`{ isolationLevel }`).
 *
 * @example
 * await transaction(knex, async (trx) => {
 *   const [user] = await trx("users").insert({ email }).returning("*");
 *   await WelcomeJob.performLater(user.id);
 * });
 */
export function transaction<Trx extends KnexTransactionLike, T, Config = unknown>(
  knex: { transaction<R>(fn: (trx: Trx) => Promise<R>, config?: Config): Promise<R> },
  fn: (trx: Trx) => Promise<T>,
  config?: Config,
): Promise<T> {
  return withTransaction<Trx, T>((body) => knex.transaction((trx) => body(knexConnection(trx), trx), config), fn);
}
