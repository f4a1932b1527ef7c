// The PostgreSQL outbox relayed to SQS (the fauxqs emulator): every job arrives once, and
// what a resend (a relay killed after send, before delete) does on each kind of queue —
// FIFO stores it once (the enqueue's deduplication id is the job id), a standard queue
// twice: the documented limit (docs/transactions-outbox.md).
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";

import { PostgresOutbox } from "@errand/adapter-postgres";
import { SqsAdapter } from "@errand/adapter-sqs";
import { Runtime, runOutboxRelay, type OutboxJob } from "@errand/core";
import type { AdapterClient } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { payload } from "./conformance/harness.js";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";
import { sqsEndpoint, sqsPrefix, TEST_SQS_CONFIG } from "./support/sqs.js";

const url = postgresUrl();
const endpoint = sqsEndpoint();
const pool = new pg.Pool({ connectionString: url, max: 2 });
const schemas: string[] = [];
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await pool.end();
  await dropSchemas(url, schemas);
});

function sqsRuntime(fifo: boolean, prefix: string, outbox?: PostgresOutbox): Runtime {
  const adapter = new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix: prefix, fifo });
  const runtime = new Runtime({ adapter, worker: { embedded: false }, ...(outbox ? { outbox } : {}) });
  closers.push(() => runtime.close());
  return runtime;
}

/** Every job id SQS hands out on `queue` until `count` arrived (each is deleted once seen). */
async function received(client: AdapterClient, queue: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  await waitFor(
    async () => {
      const got = await client.adapter.reserve({ queues: [queue], max: 10, leaseMs: 60_000, waitMs: 0, workerId: "outbox-test" });
      ids.push(...got.map((reservation) => (JSON.parse(reservation.body) as { id: string }).id));
      // Deleted once seen: on FIFO a job's copy would otherwise hide behind it (one group per job).
      if (got.length > 0) await client.adapter.settle({ settlements: got.map((reservation) => ({ reservation, outcome: "succeeded" as const })) });
      return ids.length >= count;
    },
    { timeoutMs: 20_000, message: `${count} messages on ${queue}` },
  );
  return ids;
}

/** A last look: anything more on `queue` (a duplicate) shows up here. */
async function more(client: AdapterClient, queue: string): Promise<number> {
  const got = await client.adapter.reserve({ queues: [queue], max: 10, leaseMs: 60_000, waitMs: 1_000, workerId: "outbox-test" });
  return got.length;
}

function jobsOn(queue: string, n: number): OutboxJob[] {
  return Array.from({ length: n }, () => ({ adapter: undefined, payload: payload({ queue }) }));
}

describe.each([false, true])("postgres outbox → sqs (fifo: %s)", (fifo) => {
  it("relays every job committed, once, and none rolled back", async () => {
    const schema = schemaName();
    schemas.push(schema);
    const outbox = new PostgresOutbox({ url, schema, pollMs: 100, batchSize: 25 });
    closers.push(() => outbox.close());
    const runtime = sqsRuntime(fifo, sqsPrefix(), outbox);
    const controller = new AbortController();
    const errors: unknown[] = [];
    const relaying = runOutboxRelay(runtime, { signal: controller.signal, onError: (error) => errors.push(error) });
    const committed: string[] = [];
    for (let t = 0; t < 6; t++) {
      const jobs = jobsOn("q", 10);
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await outbox.write({ dialect: "postgres", library: "pg", query: (text, values) => client.query(text, values as unknown[]) }, jobs);
        await client.query(t === 3 ? "ROLLBACK" : "COMMIT");
      } finally {
        client.release();
      }
      if (t !== 3) committed.push(...jobs.map((job) => job.payload.id));
    }
    await waitFor(async () => (await outbox.pending()) === 0, { timeoutMs: 20_000, message: "the outbox drained" });
    const client = await runtime.adapterFor();
    const ids = await received(client, "q", committed.length);
    expect(ids.toSorted()).toEqual(committed.toSorted());
    expect(await more(client, "q")).toBe(0);
    controller.abort();
    await relaying;
    expect(errors).toEqual([]);
  });

  it(`a resent batch is stored ${fifo ? "once (deduplicated by job id)" : "twice (a standard queue has no deduplication)"}`, async () => {
    const runtime = sqsRuntime(fifo, sqsPrefix());
    const client = await runtime.adapterFor();
    const jobs = jobsOn("r", 4).map((job) => job.payload);
    await client.enqueue(jobs);
    await client.enqueue(jobs.slice(0, 2));
    const ids = await received(client, "r", fifo ? 4 : 6);
    expect(ids.toSorted()).toEqual((fifo ? jobs : [...jobs, ...jobs.slice(0, 2)]).map((job) => job.id).toSorted());
    expect(await more(client, "r")).toBe(0);
  });
});
