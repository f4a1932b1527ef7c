/**
 * Errand with Prisma 7 (tested with 7.5 and its query compiler): joined on PostgreSQL
 * (@prisma/adapter-pg); on MySQL (provider "mysql", tested with @prisma/adapter-mariadb) the
 * connection names the dialect and jobs wait for the commit.
 *
 * - {@link prismaConnection}: the `tx` of `prisma.$transaction(async (tx) => …)` as a
 *   `TransactionConnection`, so `Job.set({ transaction: prismaConnection(tx) })` enqueues in
 *   that transaction (the job and its NOTIFY exist only if it commits).
 * - {@link errandModels}: a client extension whose query component brands every record a
 *   model operation returns with the model's name, and {@link prismaModel}: the finders to
 *   register under that name, so Prisma records can be passed to `performLater`.
 *
 * @module
 */
import { withTransaction, ConfigError, type ModelOptions, type TransactionConnection } from "@errand/core";

import { brandResult, connection, expectObject } from "./shared.js";

/** What Errand uses of a Prisma interactive-transaction client (`tx`). */
export interface PrismaTransactionLike {
  /** Runs a statement with `$1…` parameters in the transaction. */
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

const PRISMA_DIALECTS: Record<string, string> = { postgresql: "postgres", postgres: "postgres", cockroachdb: "cockroachdb", mysql: "mysql", sqlite: "sqlite", sqlserver: "sqlserver", mongodb: "mongodb" };

/**
 * The dialect of a Prisma client: its generated `activeProvider` ("postgresql" → "postgres").
 * Prisma keeps it on `_activeProvider` (stable from Prisma 4 to 7, not a typed API).
 */
function dialectOf(tx: Record<string, unknown>): string {
  const provider = tx["_activeProvider"];
  if (typeof provider !== "string") {
    throw new ConfigError("prismaConnection: cannot tell which database this Prisma client is on (no _activeProvider); pass the tx of prisma.$transaction(async (tx) => …)");
  }
  return PRISMA_DIALECTS[provider] ?? provider;
}

/**
 * Prisma's raw queries answer `int8` as `bigint` and `numeric` as a `Decimal`; `pg` answers
 * both as text. Errand's statements read neither, but the connection promises pg's values
 * (a Decimal's text drops trailing zeros: 1.50 reads "1.5", where pg gives "1.50").
 */
function asPgValue(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  const type = (value as { constructor?: { isDecimal?: unknown } } | null | undefined)?.constructor;
  if (typeof value === "object" && typeof type?.isDecimal === "function" && type.isDecimal(value)) return String(value);
  return value;
}

/**
 * Turns the `tx` of a Prisma interactive transaction into a `TransactionConnection`.
 * Statements run through `tx.$queryRawUnsafe(text, ...values)`, in the transaction.
 *
 * @example
 * await prisma.$transaction(async (tx) => {
 *   const user = await tx.user.create({ data: { email } });
 *   await Welcome.set({ transaction: prismaConnection(tx) }).performLater(user.id);
 * });
 */
export function prismaConnection(tx: PrismaTransactionLike): TransactionConnection {
  expectObject("prismaConnection", tx, "the tx of prisma.$transaction(async (tx) => …)");
  if (typeof tx.$queryRawUnsafe !== "function") {
    throw new ConfigError("prismaConnection: expected the tx of prisma.$transaction(async (tx) => …) (it has no $queryRawUnsafe)");
  }
  return connection("prisma", dialectOf(tx as unknown as Record<string, unknown>), async (text, values) => {
    const rows = await tx.$queryRawUnsafe<Record<string, unknown>[]>(text, ...values);
    return { rows: rows.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, asPgValue(value)]))) };
  });
}

/** Options of Prisma's interactive transactions, passed through. */
export interface PrismaTransactionOptions {
  /** Most ms to wait for a connection from Prisma's pool. */
  maxWait?: number;
  /** Most ms the interactive transaction may run before Prisma rolls it back. */
  timeout?: number;
  /** The isolation level, as Prisma names it (`"Serializable"`, …). */
  isolationLevel?: string;
}

/**
 * Runs `fn` in a Prisma interactive transaction that Errand sees: every job made inside
 * (`performLater`, `performAllLater`, `deliverLater`) joins it on the PostgreSQL adapter, goes
 * to the outbox, or waits for its commit (docs/transactions.md); after a rollback none exists.
 *
 * @example
 * await transaction(prisma, async (tx) => {
 *   const user = await tx.user.create({ data: { email } });
 *   await WelcomeJob.performLater(user.id); // exists only if the user does
 * });
 */
export function transaction<Tx extends PrismaTransactionLike, T>(
  prisma: { $transaction<R>(fn: (tx: Tx) => Promise<R>, options?: PrismaTransactionOptions): Promise<R> },
  fn: (tx: Tx) => Promise<T>,
  options?: PrismaTransactionOptions,
): Promise<T> {
  return withTransaction<Tx, T>((body) => prisma.$transaction((tx) => body(prismaConnection(tx), tx), options), fn);
}

/** Prisma operations whose result is records of the model (others, like count, are not). */
const RECORD_OPERATIONS = new Set([
  "findUnique",
  "findUniqueOrThrow",
  "findFirst",
  "findFirstOrThrow",
  "findMany",
  "create",
  "createManyAndReturn",
  "update",
  "updateManyAndReturn",
  "upsert",
  "delete",
]);

interface QueryParameters {
  model?: string;
  operation: string;
  args: unknown;
  query: (args: unknown) => Promise<unknown>;
}

/**
 * A Prisma client extension (`prisma.$extends(errandModels())`): every record a model
 * operation returns (`findMany`, `create`, …) is branded with its model name ("User"), so it
 * can be passed to `performLater` once that name is registered with {@link prismaModel}.
 * Records nested by `include` are not branded (their model is another one); brand them with
 * `brandModel(record, "Post")` from `@errand/core` when you pass them.
 *
 * @example
 * const db = new PrismaClient({ adapter }).$extends(errandModels());
 * registerModel("User", prismaModel(db.user));
 * await Welcome.performLater(await db.user.findUniqueOrThrow({ where: { id } }));
 */
export function errandModels() {
  return {
    name: "errand-models",
    query: {
      $allModels: {
        async $allOperations({ model, operation, args, query }: QueryParameters): Promise<unknown> {
          const result = await query(args);
          if (model !== undefined && RECORD_OPERATIONS.has(operation)) brandResult(result, model);
          return result;
        },
      },
    },
  };
}

/** What {@link prismaModel} uses of a model delegate (`prisma.user`). */
export interface PrismaDelegateLike<T> {
  /** Loads one record by a unique field (`find`). */
  findUnique(args: { where: Record<string, unknown> }): Promise<T | null>;
  /** Loads the records of many ids in one query (`findMany`). */
  findMany(args: { where: Record<string, unknown> }): Promise<T[]>;
}

/** Options of {@link prismaModel}. */
export interface PrismaModelOptions {
  /** The id field (a single-field `@id` or `@unique`). Default "id". */
  id?: string;
}

/**
 * The `registerModel` options for a Prisma model: `find` through `findUnique`, and one
 * `findMany({ where: { id: { in: ids } } })` for all the references of a job.
 *
 * @example
 * registerModel("User", prismaModel(db.user));
 */
export function prismaModel<T extends object>(delegate: PrismaDelegateLike<T>, options: PrismaModelOptions = {}): ModelOptions<T, unknown> {
  expectObject("prismaModel", delegate, "a Prisma model delegate such as prisma.user");
  if (typeof delegate.findUnique !== "function" || typeof delegate.findMany !== "function") {
    throw new ConfigError("prismaModel: expected a Prisma model delegate such as prisma.user (findUnique and findMany)");
  }
  for (const key of Object.keys(options)) if (key !== "id") throw new ConfigError(`prismaModel: unknown option "${key}"`);
  const field = options.id ?? "id";
  return {
    find: (id) => delegate.findUnique({ where: { [field]: id } }),
    findMany: (ids) => delegate.findMany({ where: { [field]: { in: ids } } }),
    id: (record) => (record as Record<string, unknown>)[field],
  };
}
