/**
 * Errand with TypeORM: joined on PostgreSQL; on MySQL (`type` "mysql", "mariadb",
 * "aurora-mysql") the connection names the dialect and jobs wait for the commit.
 *
 * - {@link typeormConnection}: the `EntityManager` of `dataSource.transaction(async (manager)
 *   => …)` as a `TransactionConnection`; statements run on its query runner, in the
 *   transaction.
 * - {@link typeormModel}: `registerModel` options for an entity class (`findOneBy`, and one
 *   `findBy({ id: In(ids) })` for all the references of a job).
 *
 * @module
 */
import { withTransaction, ConfigError, type ModelOptions, type TransactionConnection } from "@errand/core";
import { In, type DataSource, type EntityManager, type EntityTarget, type ObjectLiteral } from "typeorm";
import type { IsolationLevel } from "typeorm/driver/types/IsolationLevel.js";

import { connection, expectObject } from "./shared.js";

const TYPEORM_DIALECTS: Record<string, string> = {
  postgres: "postgres",
  "aurora-postgres": "postgres",
  cockroachdb: "cockroachdb",
  mysql: "mysql",
  mariadb: "mysql",
  "aurora-mysql": "mysql",
  sqlite: "sqlite",
  "better-sqlite3": "sqlite",
  sqljs: "sqlite",
  mssql: "mssql",
  oracle: "oracle",
};

/**
 * Turns the `EntityManager` of a TypeORM transaction into a `TransactionConnection` (dialect
 * from the data source's `type`: "postgres" → "postgres", "mysql" → "mysql" without `query`).
 *
 * @example
 * await dataSource.transaction(async (manager) => {
 *   const user = await manager.save(User, { email });
 *   await Welcome.set({ transaction: typeormConnection(manager) }).performLater(user);
 * });
 */
export function typeormConnection(manager: EntityManager): TransactionConnection {
  expectObject("typeormConnection", manager, "the EntityManager of dataSource.transaction(async (manager) => …)");
  const runner = manager.queryRunner;
  if (!runner || !runner.isTransactionActive) {
    throw new ConfigError("typeormConnection: the EntityManager is not in a transaction; pass the manager of dataSource.transaction(async (manager) => …)");
  }
  const type = String(manager.connection.options.type);
  return connection("typeorm", TYPEORM_DIALECTS[type] ?? type, async (text, values) => {
    // The structured result: `manager.query` answers [rows, count] for UPDATE … RETURNING.
    const result = await runner.query(text, [...values], true);
    return { rows: (result.records ?? []) as Record<string, unknown>[] };
  });
}

/**
 * Runs `fn` in a TypeORM transaction (`dataSource.transaction`) that Errand sees: every job
 * made inside joins it on the PostgreSQL adapter, goes to the outbox, or waits for its commit
 * (docs/transactions.md); after a rollback none exists.
 *
 * @example
 * await transaction(dataSource, async (manager) => {
 *   const user = await manager.save(User, { email });
 *   await WelcomeJob.performLater(user.id);
 * });
 */
export function transaction<T>(dataSource: DataSource | EntityManager, fn: (manager: EntityManager) => Promise<T>, isolationLevel?: IsolationLevel): Promise<T> {
  return withTransaction<EntityManager, T>(
    (body) =>
      isolationLevel === undefined
        ? dataSource.transaction((manager) => body(typeormConnection(manager), manager))
        : dataSource.transaction(isolationLevel, (manager) => body(typeormConnection(manager), manager)),
    fn,
  );
}

/**
 * The `registerModel` options for an entity: `find` by primary key (`findOneBy`) and one
 * `findBy({ key: In(ids) })` for all the references of a job. The entity needs a single
 * primary column; a numeric one parses gid ids as numbers, any other keeps them text.
 *
 * @example
 * registerModel(User, typeormModel(dataSource, User));
 */
export function typeormModel<T extends ObjectLiteral>(dataSource: DataSource, entity: EntityTarget<T>): ModelOptions<T, unknown> {
  expectObject("typeormModel", dataSource, "a TypeORM DataSource");
  if (!dataSource.isInitialized) throw new ConfigError("typeormModel: the DataSource is not initialized; await dataSource.initialize() first");
  const metadata = dataSource.getMetadata(entity);
  const primary = metadata.primaryColumns;
  if (primary.length !== 1) {
    throw new ConfigError(`typeormModel: entity ${metadata.name} has ${primary.length} primary columns; a model reference needs exactly one`);
  }
  const column = primary[0]!;
  const key = column.propertyName;
  // int8/bigint columns come back as text from pg, so only the 32-bit and smaller are numbers.
  const numeric = column.type === Number || ["int", "integer", "int2", "int4", "smallint"].includes(String(column.type));
  const repository = () => dataSource.getRepository(entity);
  return {
    find: (id) => repository().findOneBy({ [key]: id } as never),
    findMany: (ids) => repository().findBy({ [key]: In(ids) } as never),
    id: (record) => column.getEntityValue(record),
    name: metadata.name,
    parseId: numeric ? (text) => Number(text) : (text) => text,
  };
}
