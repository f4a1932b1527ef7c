// Conformance wiring for @errand/adapter-postgres: a schema of its own per case (emptied and
// reused once every adapter on it has closed: support/postgres-schemas.ts).
import { afterAll } from "vitest";

import { PostgresAdapter, type PostgresAdapterOptions } from "@errand/adapter-postgres";

import { runConformance } from "./conformance/index.js";
import { transactionsSuite } from "./conformance/transactions.js";
import { postgresUrl } from "./support/postgres.js";
import { SchemaPool } from "./support/postgres-schemas.js";

const url = postgresUrl();
const schemas = new SchemaPool(url);
afterAll(() => schemas.drop());

/** An adapter on `schema` that hands the schema back to the pool when closed. */
const adapterOn = (schema: string, options: Partial<PostgresAdapterOptions> = {}) =>
  schemas.hold(schema, new PostgresAdapter({ url, schema, poolSize: 4, leaseCheckMs: 50, ...options }));

runConformance({
  name: "postgres",
  capabilities: PostgresAdapter.capabilities,
  create: async () => adapterOn(await schemas.take()),
  // Another process of the same app: the same database and schema.
  peer: async (adapter) => adapterOn((adapter as PostgresAdapter).schema),
  // A raw body goes straight into the table, bypassing the adapter's own encoding.
  insertRaw: async (adapter, body, queue) => {
    const { pool, schema } = adapter as PostgresAdapter;
    await (adapter as PostgresAdapter).migrate();
    await pool.query(
      `INSERT INTO "${schema}".jobs (id, job, queue, run_at, state, body, enqueued_at) VALUES (gen_random_uuid(), 'raw', $1, now(), 'available', $2, now())`,
      [queue, body],
    );
  },
});

// `transactions: "after-commit"`: the app's transaction is not joined; jobs wait for its commit.
transactionsSuite({
  name: "postgres (transactions: after-commit)",
  capabilities: { ...PostgresAdapter.capabilities, transactionalEnqueue: false },
  create: async () => adapterOn(await schemas.take(), { transactions: "after-commit" }),
});
