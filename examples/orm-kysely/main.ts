// The runnable example of packages/orm/README.md (kept identical by test/orm-readme.pg.test.ts).
import { Kysely, PostgresDialect, type Generated, type Selectable } from "kysely";
import pg from "pg";
import { configure, Job, registerModel, Worker } from "@errand/core";
import { ErrandModelsPlugin, kyselyConnection, kyselyModel } from "@errand/orm/kysely";

interface Database {
  users: { id: Generated<number>; email: string };
}
type User = Selectable<Database["users"]>;

class WelcomeJob extends Job<[user: User], string> {
  perform(user: User) {
    return `welcomed ${user.email}`; // the record, loaded again just before perform
  }
}

const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const runtime = configure({ adapter: { use: "postgres", url, schema: "errand_example_orm" } });
await (await runtime.adapterFor()).migrate(); // or: errand migrate

// Rows of `users` come back branded as "User" records, which jobs take as references.
const db = new Kysely<Database>({
  dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }),
  plugins: [new ErrandModelsPlugin({ users: "User" })],
}).withSchema("errand_example_orm_app");
registerModel("User", kyselyModel(db, "users"));
await db.schema.createSchema("errand_example_orm_app").ifNotExists().execute();
await db.schema.createTable("users").ifNotExists().addColumn("id", "serial", (c) => c.primaryKey()).addColumn("email", "text", (c) => c.notNull()).execute();

// Sign-up: the user row and the welcome job commit together, or neither exists.
const { jobId } = await db.transaction().execute(async (trx) => {
  const user = await trx.insertInto("users").values({ email: "ada@example.com" }).returningAll().executeTakeFirstOrThrow();
  return WelcomeJob.set({ transaction: kyselyConnection(trx) }).performLater(user);
});

// A worker (normally its own process: `errand work`) runs it.
const worker = new Worker({ runtime, concurrency: 5 });
await worker.start();
await worker.drained();
console.log((await WelcomeJob.status(jobId))?.result); // "welcomed ada@example.com"
await db.destroy();
await runtime.close();
