// The five ORMs on MariaDB, each as the same small surface for the cases of orm-mysql.ts:
// its `transaction(db, fn)` and `xConnection(tx)` from @errand/orm, an insert into the file's
// users table through the transaction, the ORM's own rollback, and its own transaction
// without Errand's scope (for `set({ transaction })`). Drivers: mysql2 for Knex, Drizzle,
// Kysely and TypeORM; Prisma's MariaDB driver adapter (the `mariadb` package) for Prisma.
import { PrismaMariaDb } from "@prisma/adapter-mariadb";
import { drizzle } from "drizzle-orm/mysql2";
import { int, mysqlTable, varchar } from "drizzle-orm/mysql-core";
import knexFactory from "knex";
import { Kysely, MysqlDialect } from "kysely";
import { createPool } from "mysql2";
import mysqlPromise from "mysql2/promise";
import { DataSource, EntitySchema, type EntityManager } from "typeorm";

import type { TransactionConnection } from "@errand/core";
import { drizzleConnection, transaction as drizzleTransaction } from "@errand/orm/drizzle";
import { knexConnection, transaction as knexTransaction } from "@errand/orm/knex";
import { kyselyConnection, transaction as kyselyTransaction } from "@errand/orm/kysely";
import { prismaConnection, transaction as prismaTransaction } from "@errand/orm/prisma";
import { transaction as typeormTransaction, typeormConnection } from "@errand/orm/typeorm";

import { PrismaClient } from "../fixtures/prisma-mysql/generated/client.js";

/** One ORM on MariaDB, with the file's users table. */
export interface MysqlOrm<Tx = unknown> {
  readonly library: string;
  /** `transaction(db, fn)` of the ORM's @errand/orm subpath. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** The ORM's own transaction, without Errand's scope. */
  plain<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** `xConnection(tx)` of the subpath. */
  connection(tx: Tx): TransactionConnection;
  /** Inserts a user through the transaction. */
  insert(tx: Tx, email: string): Promise<void>;
  /**
   * Rolls the transaction back the ORM's way (Knex `trx.rollback`, Drizzle `tx.rollback`);
   * Kysely, TypeORM and Prisma have no rollback inside their callback, so there it is a
   * statement MariaDB refuses (a duplicate email), whose error the ORM rolls back for.
   */
  rollback(tx: Tx, email: string): Promise<void>;
  /** What the ORM's transaction rejects with after {@link rollback}. */
  readonly rolledBackWith: RegExp;
  close(): Promise<unknown>;
}

/** The Prisma client of test/fixtures/prisma-mysql, whose table is this fixed name. */
export const PRISMA_MYSQL_TABLE = "errand_orm_prisma_users";

export function knexOnMysql(url: string, table: string): MysqlOrm<knexFactory.Knex.Transaction> {
  const knex = knexFactory({ client: "mysql2", connection: url, pool: { min: 0, max: 2 } });
  return {
    library: "knex",
    transaction: (fn) => knexTransaction(knex, fn),
    plain: (fn) => knex.transaction(fn),
    connection: knexConnection,
    insert: async (trx, email) => void (await trx(table).insert({ email })),
    rollback: async (trx) => void (await trx.rollback(new Error("rolled back by trx.rollback"))),
    rolledBackWith: /^rolled back by trx\.rollback$/,
    close: () => knex.destroy(),
  };
}

export function drizzleOnMysql(url: string, table: string) {
  const pool = mysqlPromise.createPool({ uri: url, connectionLimit: 2 });
  const db = drizzle(pool);
  const users = mysqlTable(table, { id: int("id").autoincrement().primaryKey(), email: varchar("email", { length: 191 }).notNull() });
  type Tx = Parameters<Parameters<typeof db.transaction>[0]>[0];
  const orm: MysqlOrm<Tx> = {
    library: "drizzle",
    transaction: (fn) => drizzleTransaction(db, fn),
    plain: (fn) => db.transaction(fn),
    connection: drizzleConnection,
    insert: async (tx, email) => void (await tx.insert(users).values({ email })),
    rollback: async (tx) => tx.rollback(),
    rolledBackWith: /^Rollback$/,
    close: () => pool.end(),
  };
  return orm;
}

type KyselyUsers = Record<string, { id: number; email: string }>;

export function kyselyOnMysql(url: string, table: string) {
  const db = new Kysely<KyselyUsers>({ dialect: new MysqlDialect({ pool: createPool({ uri: url, connectionLimit: 2 }) }) });
  type Tx = Parameters<Parameters<ReturnType<typeof db.transaction>["execute"]>[0]>[0];
  const orm: MysqlOrm<Tx> = {
    library: "kysely",
    transaction: (fn) => kyselyTransaction(db, fn),
    plain: (fn) => db.transaction().execute(fn),
    connection: kyselyConnection,
    insert: async (trx, email) => void (await trx.insertInto(table).values({ email } as never).execute()),
    rollback: async (trx, email) => void (await trx.insertInto(table).values({ email } as never).execute()),
    rolledBackWith: /Duplicate entry/,
    close: () => db.destroy(),
  };
  return orm;
}

class TypeormUser {
  id!: number;
  email!: string;
}

/** `type` is TypeORM's: "mysql" (the mysql2 driver) or "mariadb" (the same driver, another name). */
export function typeormOnMysql(url: string, table: string, type: "mysql" | "mariadb" = "mysql") {
  const dataSource = new DataSource({
    type,
    url,
    poolSize: 2,
    entities: [new EntitySchema<TypeormUser>({ name: "User", target: TypeormUser, tableName: table, columns: { id: { type: Number, primary: true, generated: true }, email: { type: String } } })],
  });
  const orm: MysqlOrm<EntityManager> & { dataSource: DataSource } = {
    library: "typeorm",
    dataSource,
    transaction: async (fn) => typeormTransaction(await ready(dataSource), fn),
    plain: async (fn) => (await ready(dataSource)).transaction(fn),
    connection: typeormConnection,
    insert: async (manager, email) => void (await manager.save(TypeormUser, { email })),
    rollback: async (manager, email) => void (await manager.insert(TypeormUser, { email })),
    rolledBackWith: /Duplicate entry/,
    close: () => (dataSource.isInitialized ? dataSource.destroy() : Promise.resolve()),
  };
  return orm;
}

async function ready(dataSource: DataSource): Promise<DataSource> {
  if (!dataSource.isInitialized) await dataSource.initialize();
  return dataSource;
}

export function prismaOnMysql(url: string) {
  const prisma = new PrismaClient({ adapter: new PrismaMariaDb(url) });
  type Tx = Parameters<Parameters<typeof prisma.$transaction>[0]>[0];
  const orm: MysqlOrm<Tx> = {
    library: "prisma",
    transaction: (fn) => prismaTransaction(prisma, fn),
    plain: (fn) => prisma.$transaction(fn),
    connection: prismaConnection,
    insert: async (tx, email) => void (await tx.user.create({ data: { email } })),
    rollback: async (tx, email) => void (await tx.user.create({ data: { email } })),
    rolledBackWith: /Unique constraint failed/,
    close: () => prisma.$disconnect(),
  };
  return orm;
}
