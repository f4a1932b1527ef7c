// The runnable example of docs/transactions-outbox.md (kept identical by test/readme.test.ts).
import pg from "pg";
import { configure, Job, runOutboxRelay, Worker } from "@errand/core";
import { PostgresOutbox, transaction } from "@errand/adapter-postgres";

class ReceiptJob extends Job<[order: string], string> {
  perform(order: string) {
    return `receipt sent for ${order}`;
  }
}

const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
// Data in PostgreSQL, jobs on Redis: jobs made in a transaction go through the outbox.
const outbox = new PostgresOutbox({ url: databaseUrl, schema: "errand_example" });
const runtime = configure({ adapter: { use: "redis", url: redisUrl, prefix: "errand-example" }, outbox });
const pool = new pg.Pool({ connectionString: databaseUrl });
await pool.query("CREATE SCHEMA IF NOT EXISTS errand_example");
await pool.query("CREATE TABLE IF NOT EXISTS errand_example.orders (id text PRIMARY KEY)");
const placeOrder = "INSERT INTO errand_example.orders (id) VALUES ($1) ON CONFLICT DO NOTHING";

// Commits: the order row and its job, written to the outbox, exist together.
await transaction(pool, async (client) => {
  await client.query(placeOrder, ["order-1"]);
  return ReceiptJob.performLater("order-1"); // { deferred: true }: in the outbox until commit
});

// Rolls back: neither exists, in PostgreSQL or in Redis.
let dropped = "";
await transaction(pool, async (client) => {
  await client.query(placeOrder, ["order-2"]);
  dropped = (await ReceiptJob.performLater("order-2")).jobId;
  throw new Error("payment declined");
}).catch((error: Error) => console.log(`rolled back: ${error.message}`));

// The relay (`errand relay`, or beside `errand work`) moves committed jobs to Redis; a worker runs them.
const ran = new Promise((resolve) => runtime.events.on("job:complete", ({ result }) => resolve(result)));
const stopRelay = new AbortController();
const relay = runOutboxRelay(runtime, { signal: stopRelay.signal, onError: (error) => console.error(error) });
const worker = new Worker({ runtime, concurrency: 5 });
await worker.start();
console.log(await ran); // "receipt sent for order-1"
const orders = await pool.query("SELECT id FROM errand_example.orders ORDER BY id");
console.log(`orders: ${orders.rows.map((row) => row.id).join(", ")}`); // "orders: order-1"
console.log(await ReceiptJob.status(dropped)); // null: the rolled-back job is nowhere
stopRelay.abort();
await relay;
await runtime.close();
await outbox.close();
await pool.end();
