// The runnable example of docs/transactions-orms.md's MySQL section (kept identical by test/orm-mysql-readme.mysql.test.ts).
import knexFactory from "knex";
import { configure, Job, Worker } from "@errand/core";
import { transaction } from "@errand/orm/knex";

class WelcomeJob extends Job<[userId: number], string> {
  perform(userId: number) {
    return `welcomed user ${userId}`;
  }
}

// The app's data in MySQL (or MariaDB), its jobs in Redis.
const runtime = configure({ adapter: { use: "redis", url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379", prefix: "errand-example-mysql" } });
const knex = knexFactory({ client: "mysql2", connection: process.env.MYSQL_URL ?? "mysql://root@127.0.0.1:3306/test" });
await knex.schema.dropTableIfExists("errand_example_users");
await knex.schema.createTable("errand_example_users", (table) => {
  table.increments("id");
  table.string("email").notNullable();
});

// Commits: the job waits for the commit, then goes to Redis.
const kept = await transaction(knex, async (trx) => {
  const [id] = await trx("errand_example_users").insert({ email: "ada@example.com" });
  return WelcomeJob.performLater(id!);
});
console.log(kept.deferred); // true

// Rolls back: neither the row nor the job exists.
let dropped = "";
await transaction(knex, async (trx) => {
  const [id] = await trx("errand_example_users").insert({ email: "bob@example.com" });
  dropped = (await WelcomeJob.performLater(id!)).jobId;
  throw new Error("payment declined");
}).catch((error: Error) => console.log(`rolled back: ${error.message}`));

const worker = new Worker({ runtime, concurrency: 5 });
await worker.start();
await worker.drained();
console.log((await WelcomeJob.status(kept.jobId))?.result); // "welcomed user 1"
console.log(await WelcomeJob.status(dropped)); // null
await knex.schema.dropTable("errand_example_users");
await knex.destroy();
await runtime.close();
