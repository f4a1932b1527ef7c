// Conformance wiring for @errand/adapter-postgres: a schema of its own per case.
import { afterAll } from "vitest";

import { PostgresAdapter } from "@errand/adapter-postgres";

import { runConformance } from "./conformance/index.js";
import { transactionsSuite } from "./conformance/transactions.js";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";

const url = postgresUrl();
const schemas: string[] = [];
afterAll(() => dropSchemas(url, schemas));

runConformance({
  name: "postgres",
  capabilities: PostgresAdapter.capabilities,
  create: async () => {
    const schema = schemaName();
    schemas.push(schema);
    return new PostgresAdapter({ url, schema, poolSize: 4, leaseCheckMs: 50 });
  },
  // Another process of the same app: the same database and schema.
  peer: async (adapter) => new PostgresAdapter({ url, schema: (adapter as PostgresAdapter).schema, poolSize: 4, leaseCheckMs: 50 }),
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
  create: async () => {
    const schema = schemaName();
    schemas.push(schema);
    return new PostgresAdapter({ url, schema, poolSize: 4, leaseCheckMs: 50, transactions: "after-commit" });
  },
});
