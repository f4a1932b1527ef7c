/**
 * Statements in the caller's transaction (`set({ transaction })`, or a `withTransaction`
 * scope in `transactions: "join"` mode): run through its connection, and a missing Errand
 * schema there (the app's database is not the jobs' one) said so, with the option that fits.
 *
 * @module
 */
import { ConfigError } from "@errand/core/adapter";

// Errand's schema, table or function missing: undefined schema, table, function.
const SCHEMA_MISSING_CODES = new Set(["3F000", "42P01", "42883"]);

/**
 * What runs statements in the caller's transaction: a `pg` client inside `BEGIN`, or a
 * `TransactionConnection` (`query(text, values)` resolving to `{ rows }`).
 */
export interface Queryable {
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * The caller's transaction of `set({ transaction })` (or a joined scope's connection) as a
 * {@link Queryable}, `undefined` for none. Throws a `ConfigError` for anything else, and
 * names the database of a connection that is not PostgreSQL's (a MySQL ORM's).
 */
export function joinable(transaction: unknown): Queryable | undefined {
  if (transaction === undefined) return undefined;
  const { dialect, library } = (transaction ?? {}) as { dialect?: unknown; library?: unknown };
  if (typeof dialect === "string" && dialect !== "postgres") {
    throw new ConfigError(
      `postgres adapter: set({ transaction }) got a ${dialect} transaction${typeof library === "string" ? ` (${library})` : ""}: the PostgreSQL adapter joins PostgreSQL transactions only. ` +
        `To enqueue after it commits, leave set({ transaction }) out and open it with transaction(db, fn) of @errand/orm, with the jobs on an adapter that does not join (Redis, SQS, or this one with transactions: "after-commit")`,
    );
  }
  if (typeof transaction !== "object" || transaction === null || typeof (transaction as Queryable).query !== "function") {
    throw new ConfigError("postgres adapter: set({ transaction }) takes a pg client (Client or PoolClient) inside BEGIN, or a TransactionConnection with query()");
  }
  return transaction as Queryable;
}

/** Runs `text` through the caller's connection. */
export async function queryJoined(client: Queryable, text: string, values: unknown[], schema: string): Promise<{ rows: unknown[] }> {
  try {
    return await client.query(text, values);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== "string" || !SCHEMA_MISSING_CODES.has(code)) throw error;
    const library = (client as { library?: unknown }).library;
    throw new ConfigError(
      `postgres adapter: Errand's schema "${schema}" is not in the database of your transaction${typeof library === "string" ? ` (${library})` : ""}: ` +
        `to enqueue inside it, run Errand's migrations on that database (errand migrate); if your app's database is not the jobs' database, ` +
        `give the adapter transactions: "after-commit" (jobs then wait for the commit)`,
      { cause: error },
    );
  }
}
