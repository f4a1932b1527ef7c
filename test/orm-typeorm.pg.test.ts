// @errand/orm/typeorm against the real PostgreSQL: a job enqueued with a TypeORM
// transaction's EntityManager exists only if it commits; entity instances travel to jobs as
// references, loaded with one `In(ids)` query (counted by a TypeORM logger).
import { DataSource, EntitySchema, type Logger } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { registerModel } from "@errand/core";
import { typeormConnection, typeormModel } from "@errand/orm/typeorm";

import { modelCases, ormHarness, transactionalEnqueueCases } from "./support/orm.js";

class User {
  id!: number;
  email!: string;
}

const UserSchema = new EntitySchema<User>({
  name: "User",
  target: User,
  tableName: "users",
  columns: { id: { type: Number, primary: true, generated: true }, email: { type: String } },
});

const h = ormHarness(`CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL)`);
let selects = 0;
const logger: Logger = {
  logQuery: (query) => {
    if (/^SELECT\b.*\bFROM ("[^"]+"\.)?"users"/i.test(query)) selects++;
  },
  logQueryError: () => {},
  logQuerySlow: () => {},
  logSchemaBuild: () => {},
  logMigration: () => {},
  log: () => {},
};
let dataSource: DataSource;
beforeAll(async () => {
  dataSource = new DataSource({ type: "postgres", url: h.appUrl, schema: h.appSchema, entities: [UserSchema], logging: ["query"], logger, poolSize: 2 });
  await dataSource.initialize();
  registerModel(User, typeormModel(dataSource, User));
});
afterAll(() => dataSource?.destroy());

describe("@errand/orm/typeorm", () => {
  transactionalEnqueueCases("typeorm", h, async (outcome, body) => {
    const rollback = new Error("roll back");
    await dataSource
      .transaction(async (manager) => {
        await manager.save(User, { email: "to@example.com" });
        await body(typeormConnection(manager));
        if (outcome === "rollback") throw rollback;
      })
      .catch((error: unknown) => {
        if (error !== rollback) throw error;
      });
  });

  modelCases("typeorm", h, {
    create: (emails) => dataSource.getRepository(User).save(emails.map((email) => Object.assign(new User(), { email }))),
    remove: async (record) => {
      await dataSource.getRepository(User).delete((record as User).id);
    },
    selects: () => selects,
    resetSelects: () => (selects = 0),
  });

  it("an UPDATE … RETURNING answers its rows (manager.query would answer [rows, count])", async () => {
    await dataSource.transaction(async (manager) => {
      const [user] = await manager.save(User, [{ email: "ret@example.com" }]);
      const { rows } = await typeormConnection(manager).query!("UPDATE users SET email = $2 WHERE id = $1 RETURNING email", [user!.id, "new@example.com"]);
      expect(rows).toEqual([{ email: "new@example.com" }]);
    });
  });

  it("refuses an EntityManager outside a transaction", () => {
    expect(() => typeormConnection(dataSource.manager)).toThrow("typeormConnection: the EntityManager is not in a transaction");
  });

  it("the recipe parses numeric ids as numbers and names the entity", () => {
    const options = typeormModel(dataSource, User);
    expect(options.name).toBe("User");
    expect(options.parseId!("42")).toBe(42);
  });
});
