// `transaction(db, fn)` of every @errand/orm subpath, the one-liners over core's withTransaction.
//
// Inside transaction(db, fn) a plain performLater (no set({ transaction })) joins the ORM's
// transaction on the PostgreSQL adapter ("join", its default): stored at commit, nothing on
// rollback, `deferred: false`.
import { PrismaPg } from "@prisma/adapter-pg";
import { drizzle } from "drizzle-orm/node-postgres";
import { pgTable, serial, text } from "drizzle-orm/pg-core";
import knexFactory from "knex";
import { Kysely, PostgresDialect, type Generated } from "kysely";
import pg from "pg";
import { DataSource, EntitySchema } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { transaction as drizzleTransaction } from "@errand/orm/drizzle";
import { transaction as knexTransaction } from "@errand/orm/knex";
import { transaction as kyselyTransaction } from "@errand/orm/kysely";
import { transaction as prismaTransaction } from "@errand/orm/prisma";
import { transaction as typeormTransaction } from "@errand/orm/typeorm";

import { PrismaClient } from "./fixtures/prisma/generated/client.js";
import { OrmTaggedJob, ormHarness } from "./support/orm.js";

const h = ormHarness(`CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL)`);

class TypeormUser {
  id!: number;
  email!: string;
}
const drizzleUsers = pgTable("users", { id: serial("id").primaryKey(), email: text("email").notNull() });

/** Opens the ORM's transaction with `transaction(db, fn)`, inserts a user, enqueues without set({ transaction }). */
type Case = (queue: string, rollback: boolean) => Promise<{ deferred: boolean }>;
const cases: Record<string, Case> = {};
const closers: (() => Promise<unknown>)[] = [];
const rollbackError = new Error("roll back");

beforeAll(async () => {
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: h.appUrl, max: 2 }, { schema: h.appSchema }) });
  const pool = new pg.Pool({ connectionString: h.appUrl, max: 2 });
  const drizzleDb = drizzle(pool);
  const knex = knexFactory({ client: "pg", connection: h.appUrl, pool: { min: 0, max: 2 } });
  const kysely = new Kysely<{ users: { id: Generated<number>; email: string } }>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: h.appUrl, max: 2 }) }) });
  const dataSource = new DataSource({
    type: "postgres",
    url: h.appUrl,
    schema: h.appSchema,
    entities: [new EntitySchema<TypeormUser>({ name: "User", target: TypeormUser, tableName: "users", columns: { id: { type: Number, primary: true, generated: true }, email: { type: String } } })],
  });
  await dataSource.initialize();
  closers.push(() => prisma.$disconnect(), () => pool.end(), () => knex.destroy(), () => kysely.destroy(), () => dataSource.destroy());

  const enqueue = async (queue: string, rollback: boolean) => {
    const enqueued = await OrmTaggedJob.set({ queue }).performLater(queue);
    if (rollback) throw rollbackError;
    return enqueued;
  };
  cases.prisma = (queue, rollback) =>
    prismaTransaction(prisma, async (tx) => {
      await tx.user.create({ data: { email: `${queue}@example.com` } });
      return enqueue(queue, rollback);
    });
  cases.drizzle = (queue, rollback) =>
    drizzleTransaction(drizzleDb, async (tx) => {
      await tx.insert(drizzleUsers).values({ email: `${queue}@example.com` });
      return enqueue(queue, rollback);
    });
  cases.knex = (queue, rollback) =>
    knexTransaction(knex, async (trx) => {
      await trx("users").insert({ email: `${queue}@example.com` });
      return enqueue(queue, rollback);
    });
  cases.kysely = (queue, rollback) =>
    kyselyTransaction(kysely, async (trx) => {
      await trx.insertInto("users").values({ email: `${queue}@example.com` }).execute();
      return enqueue(queue, rollback);
    });
  cases.typeorm = (queue, rollback) =>
    typeormTransaction(dataSource, async (manager) => {
      await manager.save(TypeormUser, { email: `${queue}@example.com` });
      return enqueue(queue, rollback);
    });
});
afterAll(() => Promise.all(closers.map((close) => close())));

const emails = async (queue: string) => (await h.adapter.pool.query(`SELECT email FROM "${h.appSchema}".users WHERE email = $1`, [`${queue}@example.com`])).rows;

describe.each(["prisma", "drizzle", "knex", "kysely", "typeorm"])("transaction(db, fn) of @errand/orm/%s", (library) => {
  it("a performLater inside joins the transaction: stored with the row at commit, not deferred", async () => {
    const queue = `${library}-tx-commit`;
    const enqueued = await cases[library]!(queue, false);
    expect(enqueued.deferred).toBe(false);
    expect(await h.storedOn(queue)).toHaveLength(1);
    expect(await emails(queue)).toHaveLength(1);
  });

  it("a rollback drops both the row and the job", async () => {
    const queue = `${library}-tx-rollback`;
    await expect(cases[library]!(queue, true)).rejects.toBe(rollbackError);
    expect(await h.storedOn(queue)).toEqual([]);
    expect(await emails(queue)).toEqual([]);
  });
});
