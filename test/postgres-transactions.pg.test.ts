// Jobs inside the app's PostgreSQL transaction (issue 16), what only PostgreSQL shows: in
// "join" mode the row is written in the transaction (seen by its connection, not by another)
// and its NOTIFY arrives at COMMIT; set({ transaction }) with a pg client or a connection;
// the missing-schema error; the transactions option; the routing to an outbox. Portable
// behaviour: test/conformance/transactions.ts.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { AsyncAdapter } from "@errand/adapter-async";
import { pgConnection, PostgresAdapter, transaction } from "@errand/adapter-postgres";
import { ConfigError, configure, Job, UnsupportedError, withTransaction, type Outbox, type OutboxJob } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";
import { freshPostgresAdapters } from "./support/postgres-adapters.js";

const url = postgresUrl();
const freshAdapter = freshPostgresAdapters();
const appSchema = schemaName("tx_app");
let pool: pg.Pool;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: url, max: 4 });
  await pool.query(`CREATE SCHEMA "${appSchema}"; CREATE TABLE "${appSchema}".outbox (id text PRIMARY KEY, adapter text, body jsonb)`);
});
afterAll(async () => {
  await pool.end();
  await dropSchemas(url, [appSchema]);
});

class MailJob extends Job<[to: string]> {
  perform(to: string) {
    return to;
  }
}

/** Unique: its enqueue goes through enqueue_flow (migration 006, its wake-up fixed by 017). */
class UniqueMailJob extends Job<[to: string]> {
  static override unique = { while: "queued" as const };
  perform(to: string) {
    return to;
  }
}

const jobRows = (queryable: { query: pg.Pool["query"] } | pg.ClientBase, schema: string, id: string) =>
  queryable.query(`SELECT id FROM "${schema}".jobs WHERE id = $1`, [id]).then((result) => result.rowCount);

describe("postgres: transactions: \"join\"", () => {
  it.each([
    ["a plain job", MailJob],
    ["a unique job (enqueue_flow)", UniqueMailJob],
  ])("%s: the row is written inside the transaction, and its NOTIFY arrives only at COMMIT", async (_label, JobClass) => {
    const adapter = freshAdapter();
    const runtime = configure({ adapter, worker: { embedded: false } });
    const listener = new pg.Client({ connectionString: url });
    try {
      await adapter.migrate();
      await listener.connect();
      const notified: string[] = [];
      listener.on("notification", (message) => notified.push(message.channel));
      await listener.query(`LISTEN "errand:${adapter.schema}"`);
      const jobId = await transaction(pool, async (client) => {
        const enqueued = await JobClass.performLater("ada@example.com");
        expect(enqueued.deferred).toBe(false);
        expect(enqueued.providerJobId).toBe(enqueued.jobId);
        expect(await jobRows(client, adapter.schema, enqueued.jobId)).toBe(1);
        expect(await jobRows(adapter.pool, adapter.schema, enqueued.jobId)).toBe(0);
        // A round trip on the listening connection: a notification sent by now has arrived.
        await listener.query("SELECT 1");
        expect(notified).toEqual([]);
        return enqueued.jobId;
      });
      await waitFor(() => notified.includes(`errand:${adapter.schema}`), { message: "the NOTIFY after COMMIT" });
      expect(await jobRows(adapter.pool, adapter.schema, jobId)).toBe(1);
    } finally {
      await listener.end();
      await runtime.close();
    }
  });

  it("set({ transaction }) still takes a pg client inside BEGIN, and a TransactionConnection too", async () => {
    const adapter = freshAdapter();
    const runtime = configure({ adapter, worker: { embedded: false } });
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const viaClient = await MailJob.set({ transaction: client }).performLater("client");
      const viaConnection = await MailJob.set({ transaction: pgConnection(client) }).performLater("connection");
      await client.query("ROLLBACK");
      expect(await MailJob.status(viaClient.jobId)).toBeNull();
      expect(await MailJob.status(viaConnection.jobId)).toBeNull();
      await client.query("BEGIN");
      const kept = await MailJob.set({ transaction: pgConnection(client) }).performLater("kept");
      await client.query("COMMIT");
      expect((await MailJob.status(kept.jobId))?.state).toBe("queued");
    } finally {
      client.release();
      await runtime.close();
    }
  });

  it("a job the adapter cannot store (an ordering group) is refused inside the transaction, which rolls back", async () => {
    const adapter = freshAdapter();
    const runtime = configure({ adapter, worker: { embedded: false } });
    try {
      await adapter.migrate();
      let before: string | undefined;
      const failure = await transaction(pool, async () => {
        before = (await MailJob.performLater("before")).jobId;
        await MailJob.set({ group: "g" }).performLater("grouped");
      }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(UnsupportedError);
      expect((failure as Error).message).toContain("capability groups");
      expect(before).toBeDefined();
      expect(await jobRows(adapter.pool, adapter.schema, before!)).toBe(0);
    } finally {
      await runtime.close();
    }
  });

  it("without Errand's schema in the transaction's database, says so and names the transactions option; the transaction rolls back", async () => {
    // The jobs' schema is never created: the app's database does not hold it.
    const adapter = freshAdapter({ migrate: false });
    const runtime = configure({ adapter, worker: { embedded: false } });
    try {
      const failure = await transaction(pool, async () => MailJob.performLater("nowhere")).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ConfigError);
      expect((failure as Error).message).toContain(`Errand's schema "${adapter.schema}" is not in the database of your transaction (pg)`);
      expect((failure as Error).message).toContain('transactions: "after-commit"');
    } finally {
      await runtime.close();
    }
  });
});

describe("postgres: the transactions option", () => {
  it("is checked: an unknown mode is a ConfigError naming it", () => {
    expect(() => new PostgresAdapter({ url, transactions: "later" as never })).toThrow(/transactions/);
  });

  it('"after-commit" turns off transactionalEnqueue, so set({ transaction }) is refused saying why', async () => {
    const adapter = freshAdapter({ transactions: "after-commit" });
    const runtime = configure({ adapter, worker: { embedded: false } });
    const client = await pool.connect();
    try {
      expect(adapter.capabilities.transactionalEnqueue).toBe(false);
      await client.query("BEGIN");
      const failure = await MailJob.set({ transaction: client }).performLater("x").catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(UnsupportedError);
      expect((failure as Error).message).toContain('transactions is "after-commit"');
      await client.query("ROLLBACK");
    } finally {
      client.release();
      await runtime.close();
    }
  });
});

/** An outbox writing through the app's connection into a table of its own (the real one is @errand/adapter-postgres's). */
function tableOutbox(): Outbox {
  return {
    dialect: "postgres",
    async write(connection, jobs: readonly OutboxJob[]) {
      for (const job of jobs) {
        await connection.query!(`INSERT INTO "${appSchema}".outbox (id, adapter, body) VALUES ($1, $2, $3)`, [job.payload.id, job.adapter ?? null, JSON.stringify(job.payload)]);
      }
    },
    relay: ({ signal }) => new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve())),
    close: async () => undefined,
  };
}

describe("withTransaction: routing to the outbox", () => {
  const inOutbox = async (id: string) => (await pool.query(`SELECT 1 FROM "${appSchema}".outbox WHERE id = $1`, [id])).rowCount;

  it("an adapter that cannot join writes to the outbox through the connection: kept on commit, gone on rollback", async () => {
    const runtime = configure({ adapter: new AsyncAdapter(), outbox: tableOutbox(), worker: { embedded: false } });
    try {
      const committed = await transaction(pool, async () => MailJob.performLater("outboxed"));
      expect(committed.deferred).toBe(true);
      expect(committed.providerJobId).toBe("");
      expect(await inOutbox(committed.jobId)).toBe(1);
      let rolledBack = "";
      await transaction(pool, async () => {
        rolledBack = (await MailJob.performLater("dropped")).jobId;
        throw new Error("no");
      }).catch(() => undefined);
      expect(await inOutbox(rolledBack)).toBe(0);
      // Nothing was enqueued on the adapter: the relay moves outboxed jobs.
      expect(await MailJob.status(committed.jobId)).toBeNull();
    } finally {
      await runtime.close();
    }
  });
});

describe("withTransaction: misuse", () => {
  it("an open() that never runs body is an error", async () => {
    await expect(withTransaction(async () => "skipped", async () => "never")).rejects.toThrow(/without running body/);
  });

  it("a connection without dialect and library is an error", async () => {
    await expect(withTransaction((body) => body({} as never, undefined), async () => 1)).rejects.toThrow(/TransactionConnection/);
  });

  it("a postgres connection without query() is refused by the adapter in join mode, not deferred", async () => {
    const runtime = configure({ adapter: freshAdapter(), worker: { embedded: false } });
    try {
      const inside = withTransaction((body) => body({ dialect: "postgres", library: "custom" }, undefined), async () => MailJob.performLater("x"));
      await expect(inside).rejects.toThrow("the postgres adapter enqueues inside PostgreSQL transactions only (transactionalEnqueue), and this custom connection has no query()");
    } finally {
      await runtime.close();
    }
  });
});

describe("transaction(pool, fn): a connection that dies inside", () => {
  it("is discarded, not handed back to the pool; the pool's next transaction works", async () => {
    // No "error" listener here: the helper hears its checked-out client's error (unheard, it crashes the process).
    const own = new pg.Pool({ connectionString: url, max: 1 });
    const runtime = configure({ adapter: new AsyncAdapter(), worker: { embedded: false } });
    try {
      const killed = transaction(own, async (client) => {
        const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
        await pool.query("SELECT pg_terminate_backend($1)", [rows[0]!.pid]);
        await client.query("SELECT 1");
      });
      await expect(killed).rejects.toThrow();
      await waitFor(() => own.totalCount === 0, { timeoutMs: 5_000, message: "the dead client to leave the pool" });
      const value = await transaction(own, async (client) => (await client.query<{ one: number }>("SELECT 1 AS one")).rows[0]!.one);
      expect(value).toBe(1);
    } finally {
      await runtime.close();
      await own.end();
    }
  });
});
