// The runnable example of packages/adapter-postgres/README.md (kept identical by test/readme.test.ts).
import pg from "pg";
import { configure, Job, Worker } from "@errand/core";

class WelcomeJob extends Job<[userId: number], string> {
  perform(userId: number) {
    return `welcomed user ${userId}`;
  }
}

const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const runtime = configure({ adapter: { use: "postgres", url, schema: "errand_example" } });
await (await runtime.adapterFor()).migrate(); // or: errand migrate

// Sign-up: the user row and the welcome job commit together, or neither exists.
const db = new pg.Client({ connectionString: url });
await db.connect();
await db.query("CREATE TEMP TABLE users (id serial PRIMARY KEY, email text)");
await db.query("BEGIN");
const { rows } = await db.query<{ id: number }>("INSERT INTO users (email) VALUES ($1) RETURNING id", ["ada@example.com"]);
const { jobId } = await WelcomeJob.set({ transaction: db }).performLater(rows[0]!.id);
await db.query("COMMIT");
await db.end();

// A worker (normally its own process: `errand work`) runs it.
const worker = new Worker({ runtime, concurrency: 5 });
await worker.start();
await worker.drained();
console.log((await WelcomeJob.status(jobId))?.result); // "welcomed user 1"
await runtime.close();
