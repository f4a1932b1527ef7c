/**
 * Errand with Kysely: on PostgreSQL its transactions are joined; on MySQL and the others the
 * connection names the dialect, and jobs wait for the commit.
 *
 * - {@link kyselyConnection}: the `trx` of `db.transaction().execute(async (trx) => …)` as
 *   a `TransactionConnection`; statements run as `CompiledQuery.raw(text, values)`.
 * - {@link ErrandModelsPlugin}: a Kysely plugin that brands the rows of queries on one
 *   mapped table (`{ users: "User" }`) with the model name, and {@link kyselyModel}: the
 *   finders to register under that name.
 *
 * @module
 */
import { withTransaction, ConfigError, type ModelOptions, type TransactionConnection } from "@errand/core";
import {
  AliasNode,
  CompiledQuery,
  DeleteQueryNode,
  InsertQueryNode,
  MssqlAdapter,
  MysqlAdapter,
  PostgresAdapter,
  SelectQueryNode,
  SqliteAdapter,
  TableNode,
  UpdateQueryNode,
  type IsolationLevel,
  type Kysely,
  type KyselyPlugin,
  type OperationNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type Transaction,
  type UnknownRow,
} from "kysely";

import { brandResult, connection, expectObject } from "./shared.js";

/** Kysely's built-in adapters, by class, and by class name for a second copy of kysely. */
const KYSELY_ADAPTERS: readonly [Function, string][] = [
  [PostgresAdapter, "postgres"],
  [MysqlAdapter, "mysql"],
  [SqliteAdapter, "sqlite"],
  [MssqlAdapter, "mssql"],
];
const KYSELY_ADAPTER_NAMES = new Map(KYSELY_ADAPTERS.map(([adapter, dialect]) => [adapter.name, dialect]));

/**
 * The dialect of a Kysely instance, from its adapter: an instance of one of Kysely's own
 * (MysqlAdapter → "mysql", also for a third-party dialect that extends it), else the first
 * class name on its prototype chain that is one of them (a dialect bundling its own kysely),
 * else its own class name less "Adapter". Class names alone were not enough: a dialect's
 * `class MariaDbAdapter extends MysqlAdapter` read "mariadb", and a minifier may rename
 * an app's classes.
 */
function dialectOf(trx: Kysely<unknown>): string {
  const adapter = trx.getExecutor().adapter;
  for (const [type, dialect] of KYSELY_ADAPTERS) if (adapter instanceof type) return dialect;
  for (let proto = Object.getPrototypeOf(adapter); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    const dialect = KYSELY_ADAPTER_NAMES.get((proto as { constructor: Function }).constructor.name);
    if (dialect !== undefined) return dialect;
  }
  const name = adapter.constructor.name.replace(/Adapter$/, "").toLowerCase();
  return name === "" ? "unknown" : name;
}

/**
 * Turns a Kysely transaction into a `TransactionConnection`.
 *
 * @example
 * await db.transaction().execute(async (trx) => {
 *   const user = await trx.insertInto("users").values({ email }).returningAll().executeTakeFirstOrThrow();
 *   await Welcome.set({ transaction: kyselyConnection(trx) }).performLater(user.id);
 * });
 */
export function kyselyConnection<DB>(trx: Transaction<DB>): TransactionConnection {
  expectObject("kyselyConnection", trx, "a Kysely transaction");
  if (typeof trx.executeQuery !== "function" || typeof trx.getExecutor !== "function") {
    throw new ConfigError("kyselyConnection: expected a Kysely transaction (the trx of db.transaction().execute(async (trx) => …))");
  }
  if (!trx.isTransaction) throw new ConfigError("kyselyConnection: expected a Kysely transaction, got a Kysely instance outside one");
  return connection("kysely", dialectOf(trx as unknown as Kysely<unknown>), async (text, values) => {
    const result = await trx.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, [...values]));
    return { rows: [...result.rows] };
  });
}

/**
 * Runs `fn` in a Kysely transaction (`db.transaction().execute`) that Errand sees: every job
 * made inside joins it on the PostgreSQL adapter, goes to the outbox, or waits for its commit
 * (docs/transactions.md); after a rollback none exists. `options.isolationLevel` is set on
 * Kysely's transaction builder; any other option is refused (a `ConfigError`).
 *
 * @example
 * await transaction(db, async (trx) => {
 *   const user = await trx.insertInto("users").values({ email }).returningAll().executeTakeFirstOrThrow();
 *   await WelcomeJob.performLater(user.id);
 * }, { isolationLevel: "serializable" });
 */
export function transaction<DB, T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>, options: { isolationLevel?: IsolationLevel } = {}): Promise<T> {
  // Kysely takes these through a builder, not an options object: an unknown key would be dropped.
  for (const key of Object.keys(options ?? {})) {
    if (key !== "isolationLevel") return Promise.reject(new ConfigError(`transaction (kysely): unknown option "${key}" (known: isolationLevel)`));
  }
  const builder = options.isolationLevel === undefined ? db.transaction() : db.transaction().setIsolationLevel(options.isolationLevel);
  return withTransaction<Transaction<DB>, T>((body) => builder.execute((trx) => body(kyselyConnection(trx), trx)), fn);
}

/** The one table a query reads or writes, when it is a plain table (no join, no subquery). */
function tableOf(node: RootOperationNode): string | undefined {
  let target: OperationNode | undefined;
  if (SelectQueryNode.is(node)) {
    if (node.joins?.length || node.from?.froms.length !== 1) return undefined;
    target = node.from.froms[0];
  } else if (InsertQueryNode.is(node)) {
    target = node.into;
  } else if (UpdateQueryNode.is(node)) {
    if (node.joins?.length || (node.from && node.from.froms.length > 0)) return undefined;
    target = node.table;
  } else if (DeleteQueryNode.is(node)) {
    if (node.joins?.length || node.using || node.from.froms.length !== 1) return undefined;
    target = node.from.froms[0];
  }
  if (target && AliasNode.is(target)) target = target.node;
  return target && TableNode.is(target) ? target.table.identifier.name : undefined;
}

/**
 * A Kysely plugin branding the rows of queries on one mapped table with its model name:
 * `new ErrandModelsPlugin({ users: "User" })` makes the rows of `selectFrom("users")`
 * (and `insertInto("users")…returningAll()`, updates, deletes) `User` records, which
 * `performLater` stores as references once `registerModel("User", kyselyModel(db, "users"))`
 * is done. Rows of joins and subqueries are left alone (they are not records of one model).
 */
export class ErrandModelsPlugin implements KyselyPlugin {
  private readonly tables: ReadonlyMap<string, string>;
  private readonly pending = new WeakMap<object, string>();

  /** `models`: table name → model name. */
  constructor(models: Record<string, string>) {
    expectObject("ErrandModelsPlugin", models, "a map of table name to model name");
    for (const [table, name] of Object.entries(models)) {
      if (typeof name !== "string" || name === "") throw new ConfigError(`ErrandModelsPlugin: table "${table}" needs a model name`);
    }
    this.tables = new Map(Object.entries(models));
  }

  /** Notes which model the query's rows are, by its queryId; the query is unchanged. */
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const table = tableOf(args.node);
    const model = table === undefined ? undefined : this.tables.get(table);
    if (model !== undefined) this.pending.set(args.queryId, model);
    return args.node;
  }

  /** Brands the rows of a query noted by {@link transformQuery}. */
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const model = this.pending.get(args.queryId);
    if (model !== undefined) {
      this.pending.delete(args.queryId);
      brandResult(args.result.rows, model);
    }
    return args.result;
  }
}

/** Options of {@link kyselyModel}. */
export interface KyselyModelOptions {
  /** The id column. Default "id". */
  id?: string;
}

/**
 * The `registerModel` options for a table: `find` by id and one `where id in (…)` query for
 * all the references of a job. Use a Kysely instance with {@link ErrandModelsPlugin} so the
 * records it loads are branded too.
 *
 * @example
 * registerModel("User", kyselyModel(db, "users"));
 */
export function kyselyModel<T extends object = Record<string, unknown>>(db: Kysely<any>, table: string, options: KyselyModelOptions = {}): ModelOptions<T, unknown> {
  expectObject("kyselyModel", db, "a Kysely instance");
  if (typeof table !== "string" || table === "") throw new ConfigError("kyselyModel: the table name must be a non-empty string");
  for (const key of Object.keys(options)) if (key !== "id") throw new ConfigError(`kyselyModel: unknown option "${key}"`);
  const column = options.id ?? "id";
  return {
    find: async (id) => (await db.selectFrom(table).selectAll().where(column, "=", id).executeTakeFirst()) as T | undefined,
    findMany: async (ids) => (await db.selectFrom(table).selectAll().where(column, "in", ids).execute()) as T[],
    id: (record) => (record as Record<string, unknown>)[column],
  };
}
