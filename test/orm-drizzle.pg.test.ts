// @errand/orm/drizzle against the real PostgreSQL (node-postgres driver): a job enqueued
// with a Drizzle transaction exists only if it commits; records of a table registered with
// drizzleModel travel to jobs as references, loaded with one query (counted by Drizzle's
// logger); asModel brands records loaded by hand.
import { sql } from "drizzle-orm";
import { drizzle as drizzleSqliteProxy } from "drizzle-orm/sqlite-proxy";
import { drizzle } from "drizzle-orm/node-postgres";
import { integer, pgTable, serial, text } from "drizzle-orm/pg-core";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { MODEL_NAME, registerModel } from "@errand/core";
import { asModel, drizzleConnection, drizzleModel, toDrizzleSql } from "@errand/orm/drizzle";

import { modelCases, ormHarness, transactionalEnqueueCases } from "./support/orm.js";

const users = pgTable("users", { id: serial("id").primaryKey(), email: text("email").notNull() });
const posts = pgTable("posts", { id: serial("id").primaryKey(), userId: integer("user_id").notNull(), title: text("title").notNull() });

const h = ormHarness(`
  CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);
  CREATE TABLE posts (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users, title text NOT NULL);
`);
let selects = 0;
let pool: pg.Pool;
let db: ReturnType<typeof drizzle>;
beforeAll(() => {
  pool = new pg.Pool({ connectionString: h.appUrl, max: 2 });
  db = drizzle(pool, {
    logger: {
      logQuery: (query) => {
        if (/^select\b.*\bfrom "users"/i.test(query)) selects++;
      },
    },
  });
  registerModel("User", drizzleModel(db, users, { name: "User" }));
});
afterAll(() => pool?.end());

describe("@errand/orm/drizzle", () => {
  transactionalEnqueueCases("drizzle", h, async (outcome, body) => {
    const rollback = new Error("roll back");
    await db
      .transaction(async (tx) => {
        await tx.insert(users).values({ email: "dz@example.com" });
        await body(drizzleConnection(tx));
        if (outcome === "rollback") throw rollback;
      })
      .catch((error: unknown) => {
        if (error !== rollback) throw error;
      });
  });

  modelCases("drizzle", h, {
    create: async (emails) => asModel(users, await db.insert(users).values(emails.map((email) => ({ email }))).returning()),
    remove: async (record) => {
      await db.delete(users).where(sql`${users.id} = ${(record as { id: number }).id}`);
    },
    selects: () => selects,
    resetSelects: () => (selects = 0),
  });

  it("the recipe's finders brand what they load; asModel brands by hand; other tables stay plain", async () => {
    const [user] = await db.insert(users).values({ email: "brand@example.com" }).returning();
    const [post] = await db.insert(posts).values({ userId: user!.id, title: "t" }).returning();
    const brand = (row: object | null | undefined) => (row as { [MODEL_NAME]?: string } | null | undefined)?.[MODEL_NAME];
    expect(brand(user)).toBeUndefined();
    const options = drizzleModel(db, users, { name: "User" });
    expect(brand(await options.find(user!.id))).toBe("User");
    expect(brand(asModel(users, user!))).toBe("User");
    expect(Object.keys(user!)).toEqual(["id", "email"]);
    expect(brand(post)).toBeUndefined();
    expect(() => asModel(posts, post!)).toThrow('asModel: table "posts" has no model; call drizzleModel(db, table) first');
  });

  it("turns $n statements into Drizzle sql with params, leaving quoted $n alone", async () => {
    const query = toDrizzleSql(`SELECT $1::text AS a, $2::int + $2::int AS b, '$1' AS quoted`, ["x", 2]);
    await db.transaction(async (tx) => {
      expect((await tx.execute(query)).rows).toEqual([{ a: "x", b: 4, quoted: "$1" }]);
    });
  });

  it("a SQLite Drizzle transaction is dialect sqlite and has no query", async () => {
    // Drizzle's SQLite proxy driver, here answering every statement (BEGIN, COMMIT…) with no rows.
    const sqlite = drizzleSqliteProxy(async () => ({ rows: [] }));
    await sqlite.transaction(async (tx) => {
      expect(drizzleConnection(tx)).toEqual({ dialect: "sqlite", library: "drizzle" });
    });
  });

  it("refuses a Drizzle database outside a transaction", () => {
    expect(() => drizzleConnection(db)).toThrow("drizzleConnection: expected a Drizzle transaction, got a database outside one");
  });
});
