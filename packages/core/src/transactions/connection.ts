/**
 * The app's open transaction, as an ORM helper describes it to Errand (issue 16). Jobs made
 * inside `withTransaction` join it (PostgreSQL), go to the outbox through it, or wait for
 * its commit: docs/transactions.md.
 *
 * @module
 */

/** What an ORM helper tells Errand about the transaction the app's code runs in. */
export interface TransactionConnection {
  /** The database the transaction runs on: `"postgres"`, `"mysql"`, `"sqlite"`, … */
  readonly dialect: string;
  /** Label for errors and docs: `"prisma"`, `"drizzle"`, `"kysely"`, `"knex"`, `"typeorm"`, `"pg"`. */
  readonly library: string;
  /**
   * Runs one SQL statement with `$1…` parameters inside the transaction and resolves to its
   * rows (plain objects keyed by column name, values as `pg` returns them). Present for
   * dialect `"postgres"`: the PostgreSQL adapter joins the transaction through it, and the
   * outbox writes through it.
   */
  query?(text: string, values: readonly unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}
