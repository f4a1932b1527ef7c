/**
 * The `pg` helper for enqueueing inside the app's own transaction (issue 16): `transaction`
 * runs BEGIN / COMMIT / ROLLBACK around your work, as a `withTransaction` scope, so jobs made
 * inside join it (this adapter, `transactions: "join"`), go to the outbox, or wait for its
 * commit (other adapters). `pgConnection` describes a `pg` client to `withTransaction`, for
 * code that runs its own BEGIN.
 *
 * State per client: how many `transaction` calls are open on it (a `WeakMap`). At 0 a call
 * opens a transaction (BEGIN); above, a savepoint (`SAVEPOINT errand_<depth>`), released
 * on success and rolled back to on failure, so a nested call's jobs go with its savepoint.
 *
 * @module
 */
import type pg from "pg";

import { ConfigError, withTransaction, type TransactionConnection } from "@errand/core";

const depth = new WeakMap<pg.ClientBase, number>();
/**
 * Clients whose ROLLBACK failed: the connection is gone, or alive in a state nobody knows
 * (still inside the transaction). Never handed back to a pool.
 */
const unsure = new WeakSet<pg.ClientBase>();

/** Describes a `pg` client inside `BEGIN` to `withTransaction`: dialect "postgres", library "pg". */
export function pgConnection(client: pg.ClientBase): TransactionConnection {
  if (typeof client !== "object" || client === null || typeof client.query !== "function") {
    throw new ConfigError("pgConnection: expected a pg client (Client or PoolClient)");
  }
  return {
    dialect: "postgres",
    library: "pg",
    query: (text, values) => client.query(text, values as unknown[]),
  };
}

/** Runs `work` between BEGIN (or SAVEPOINT) and COMMIT (or RELEASE), rolling back when it throws. */
async function inTransaction<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  const level = depth.get(client) ?? 0;
  const savepoint = `errand_${level}`;
  await client.query(level === 0 ? "BEGIN" : `SAVEPOINT ${savepoint}`);
  depth.set(client, level + 1);
  try {
    const result = await work();
    await client.query(level === 0 ? "COMMIT" : `RELEASE SAVEPOINT ${savepoint}`);
    return result;
  } catch (error) {
    try {
      await client.query(level === 0 ? "ROLLBACK" : `ROLLBACK TO SAVEPOINT ${savepoint}`);
    } catch {
      // The first error says more; the client is not reused.
      unsure.add(client);
    }
    throw error;
  } finally {
    depth.set(client, level);
  }
}

/**
 * Runs `fn` in a transaction on a client of `pool` (taken and released here), or on `client`
 * (a savepoint when a `transaction` on it is already open): jobs enqueued inside belong to it.
 * Resolves after COMMIT and, on adapters that cannot join it, after its deferred jobs were
 * enqueued; rejects after ROLLBACK with `fn`'s error.
 *
 * @example
 * import { transaction } from "@errand/adapter-postgres";
 * await transaction(pool, async (client) => {
 *   await client.query("insert into users (email) values ($1)", [email]);
 *   await WelcomeJob.performLater(email); // exists only if the insert commits
 * });
 */
export async function transaction<T>(poolOrClient: pg.Pool | pg.ClientBase, fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  if (typeof poolOrClient !== "object" || poolOrClient === null || typeof poolOrClient.query !== "function") {
    throw new ConfigError("transaction: expected a pg.Pool or a pg client as its first argument");
  }
  if (typeof fn !== "function") throw new ConfigError("transaction: expected a function (client) => your work as its second argument");
  // A pool counts its clients (`totalCount`); a client does not. Duck-typed: the app's `pg` may be another copy.
  if (typeof (poolOrClient as { totalCount?: unknown }).totalCount !== "number") {
    const client = poolOrClient as pg.ClientBase;
    return withTransaction<pg.ClientBase, T>((body) => inTransaction(client, () => body(pgConnection(client), client)), fn);
  }
  const pool = poolOrClient as pg.Pool;
  const client = await pool.connect();
  // A checked-out client's connection error is its holder's to handle (the pool listens only
  // to idle ones): unheard, it would crash the process. The query in flight rejects with it.
  const onError = () => unsure.add(client);
  client.on("error", onError);
  try {
    return await withTransaction<pg.ClientBase, T>((body) => inTransaction(client, () => body(pgConnection(client), client)), fn);
  } finally {
    client.off("error", onError);
    // A client whose connection failed or whose ROLLBACK failed is destroyed, not handed back in an unknown state.
    client.release(unsure.has(client) ? new Error("errand transaction: the connection failed; it is discarded") : undefined);
  }
}
