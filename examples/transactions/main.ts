// The runnable example of docs/transactions.md (kept identical by test/readme.test.ts).
import pg from "pg";
import { configure, Job, Worker } from "@errand/core";
import { transaction } from "@errand/adapter-postgres";

class WelcomeJob extends Job<[email: string], string> {
  perform(email: string) {
    return `welcomed ${email}`;
  }
}

const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const runtime = configure({ adapter: { use: "postgres", url, schema: "errand_example" } });
await (await runtime.adapterFor()).migrate(); // or: errand migrate
const pool = new pg.Pool({ connectionString: url });
await pool.query("CREATE TABLE IF NOT EXISTS errand_example.signups (email text PRIMARY KEY)");
const signUp = "INSERT INTO errand_example.signups (email) VALUES ($1) ON CONFLICT DO NOTHING";

// Commits: the row and the job exist together.
const kept = await transaction(pool, async (client) => {
  await client.query(signUp, ["ada@example.com"]);
  return WelcomeJob.performLater("ada@example.com");
});

// Rolls back: neither exists.
let dropped = "";
await transaction(pool, async (client) => {
  await client.query(signUp, ["bob@example.com"]);
  dropped = (await WelcomeJob.performLater("bob@example.com")).jobId;
  throw new Error("payment declined");
}).catch((error: Error) => console.log(`rolled back: ${error.message}`));

const worker = new Worker({ runtime, concurrency: 5 });
await worker.start();
await worker.drained();
console.log((await WelcomeJob.status(kept.jobId))?.result); // "welcomed ada@example.com"
console.log(await WelcomeJob.status(dropped)); // null
await pool.end();
await runtime.close();
