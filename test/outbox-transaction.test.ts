// The outbox end to end (issue 16): jobs for Redis made inside the app's PostgreSQL
// transaction (the `pg` helper over core's withTransaction) go to the outbox in that
// transaction (`deferred: true`), the relay moves the committed ones to Redis, a worker runs
// them; a rolled-back transaction leaves nothing anywhere. The outbox's own cases (order, several
// relays, faults): outbox.test.ts, outbox-faults.test.ts; the routing alone:
// postgres-transactions.pg.test.ts.
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";

import { PostgresOutbox, transaction } from "@errand/adapter-postgres";
import { RedisAdapter } from "@errand/adapter-redis";
import { configure, Job, runOutboxRelay, Worker } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";

const url = postgresUrl();
const rUrl = redisUrl();
const schema = schemaName("outbox_tx");
const prefix = redisPrefix("errand-outbox-tx");
const pool = new pg.Pool({ connectionString: url, max: 4 });
const ran: string[] = [];

class ReceiptJob extends Job<[order: string]> {
  perform(order: string) {
    ran.push(order);
    return order;
  }
}

afterAll(async () => {
  await pool.end();
  await dropSchemas(url, [schema]);
  await dropPrefixes(rUrl, [prefix]);
});

describe("the outbox behind withTransaction: PostgreSQL data, Redis jobs", () => {
  it("a committed transaction's jobs reach Redis through the relay and run; a rolled-back one's exist nowhere", async () => {
    const outbox = new PostgresOutbox({ url, schema, pollMs: 100 });
    const runtime = configure({ adapter: new RedisAdapter({ url: rUrl, prefix }), outbox, jobs: [ReceiptJob], worker: { embedded: false } });
    const relayStop = new AbortController();
    const errors: unknown[] = [];
    const relay = runOutboxRelay(runtime, { signal: relayStop.signal, onError: (error) => errors.push(error) });
    const worker = new Worker({ runtime, concurrency: 2 });
    try {
      await pool.query(`CREATE TABLE IF NOT EXISTS "${schema}_orders" (id text PRIMARY KEY)`);
      const committed = await transaction(pool, async (client) => {
        await client.query(`INSERT INTO "${schema}_orders" (id) VALUES ('order-1')`);
        const first = await ReceiptJob.performLater("order-1");
        const second = await ReceiptJob.performLater("order-2");
        expect([first.deferred, second.deferred]).toEqual([true, true]);
        // In the transaction: the outbox rows are there for its own connection only.
        expect((await client.query(`SELECT count(*)::int AS n FROM "${schema}".outbox`)).rows[0].n).toBe(2);
        expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".outbox`)).rows[0].n).toBe(0);
        return [first.jobId, second.jobId];
      });
      const declined = new Error("payment declined");
      let rolledBack: string | undefined;
      await expect(
        transaction(pool, async (client) => {
          await client.query(`INSERT INTO "${schema}_orders" (id) VALUES ('order-3')`);
          rolledBack = (await ReceiptJob.performLater("order-3")).jobId;
          throw declined;
        }),
      ).rejects.toBe(declined);
      for (const jobId of committed) {
        await waitFor(async () => (await ReceiptJob.status(jobId))?.state === "queued", { timeoutMs: 10_000, message: `${jobId} relayed to Redis` });
      }
      await worker.start();
      await waitFor(() => ran.length === 2, { timeoutMs: 10_000, message: "the two committed jobs to run" });
      expect(ran).toEqual(["order-1", "order-2"]);
      expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".outbox`)).rows[0].n).toBe(0);
      expect(await ReceiptJob.status(rolledBack!)).toBeNull();
      expect(errors).toEqual([]);
    } finally {
      await worker.stop({ graceMs: 1000 });
      relayStop.abort();
      await relay;
      await runtime.close();
      await pool.query(`DROP TABLE IF EXISTS "${schema}_orders"`);
    }
  });
});
