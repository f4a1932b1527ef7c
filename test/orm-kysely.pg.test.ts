// @errand/orm/kysely against the real PostgreSQL: a job enqueued with a Kysely transaction
// exists only if it commits; rows of a mapped table come back branded by ErrandModelsPlugin
// and travel to jobs as references, loaded with one query (counted in Kysely's own log).
import { DummyDriver, Kysely, MysqlAdapter, MysqlIntrospector, MysqlQueryCompiler, PostgresDialect, sql, type LogEvent } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ConfigError, MODEL_NAME, registerModel } from "@errand/core";
import { ErrandModelsPlugin, kyselyConnection, kyselyModel, transaction } from "@errand/orm/kysely";

import { modelCases, ormHarness, transactionalEnqueueCases } from "./support/orm.js";

interface Database {
  users: { id: Generated; email: string };
  posts: { id: Generated; user_id: number; title: string };
}
type Generated = import("kysely").Generated<number>;

const h = ormHarness(`
  CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);
  CREATE TABLE posts (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users, title text NOT NULL);
`);
let selects = 0;
const log = (event: LogEvent) => {
  if (event.level === "query" && /^select\b.*\bfrom "users"/i.test(event.query.sql)) selects++;
};
let db: Kysely<Database>;
beforeAll(() => {
  db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: h.appUrl, max: 2 }) }),
    plugins: [new ErrandModelsPlugin({ users: "User" })],
    log,
  });
  registerModel("User", kyselyModel(db, "users"));
});
afterAll(() => db?.destroy());

describe("@errand/orm/kysely", () => {
  transactionalEnqueueCases("kysely", h, async (outcome, body) => {
    const rollback = new Error("roll back");
    await db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto("users").values({ email: "ky@example.com" }).execute();
        await body(kyselyConnection(trx));
        if (outcome === "rollback") throw rollback;
      })
      .catch((error: unknown) => {
        if (error !== rollback) throw error;
      });
  });

  modelCases("kysely", h, {
    create: (emails) => db.insertInto("users").values(emails.map((email) => ({ email }))).returningAll().execute(),
    remove: async (record) => {
      await db.deleteFrom("users").where("id", "=", (record as { id: number }).id).execute();
    },
    selects: () => selects,
    resetSelects: () => (selects = 0),
  });

  it("brands rows of the mapped table only: not joins, not other tables, not aggregates", async () => {
    const [user] = await db.insertInto("users").values({ email: "brand@example.com" }).returningAll().execute();
    await db.insertInto("posts").values({ user_id: user!.id, title: "t" }).execute();
    const brand = (row: object | undefined) => (row as { [MODEL_NAME]?: string } | undefined)?.[MODEL_NAME];
    expect(brand(user)).toBe("User");
    expect(Object.keys(user!)).toEqual(["id", "email"]);
    expect(brand(await db.selectFrom("users as u").selectAll().where("u.id", "=", user!.id).executeTakeFirst())).toBe("User");
    expect(brand(await db.selectFrom("posts").selectAll().executeTakeFirst())).toBeUndefined();
    expect(brand(await db.selectFrom("users").innerJoin("posts", "posts.user_id", "users.id").selectAll().executeTakeFirst())).toBeUndefined();
    const raw = await sql<{ n: number }>`SELECT count(*)::int AS n FROM users`.execute(db);
    expect(brand(raw.rows[0])).toBeUndefined();
  });

  it("a MySQL Kysely transaction is dialect mysql and has no query", async () => {
    const mysql = new Kysely<Database>({
      dialect: {
        createAdapter: () => new MysqlAdapter(),
        createDriver: () => new DummyDriver(),
        createIntrospector: (kysely) => new MysqlIntrospector(kysely),
        createQueryCompiler: () => new MysqlQueryCompiler(),
      },
    });
    await mysql.transaction().execute(async (trx) => {
      const connection = kyselyConnection(trx);
      expect(connection).toEqual({ dialect: "mysql", library: "kysely" });
    });
  });

  it("transaction(db, fn, options) refuses an unknown option, and opens no transaction", async () => {
    let ran = false;
    const failure = await transaction(db, async () => (ran = true), { isolation: "serializable" } as never).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Error).message).toContain('unknown option "isolation"');
    expect(ran).toBe(false);
  });

  it("refuses a Kysely instance outside a transaction", () => {
    expect(() => kyselyConnection(db as never)).toThrow("kyselyConnection: expected a Kysely transaction, got a Kysely instance outside one");
  });
});
