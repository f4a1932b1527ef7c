// For test files that need PostgreSQL: the URL found by the global setup (or a failure
// that says how to get one), and a schema of their own so files run in parallel.
import { randomBytes } from "node:crypto";

import pg from "pg";
import { inject } from "vitest";

/** The URL of the test PostgreSQL; throws with instructions when there is none. */
export function postgresUrl(): string {
  const found = inject("postgres");
  if ("error" in found) throw new Error(found.error);
  return found.url;
}

/** A new unique schema name for this test file (created by the adapter's migrations). */
export function schemaName(prefix = "errand_t"): string {
  return `${prefix}_${randomBytes(5).toString("hex")}`;
}

/** Drops schemas a test file created. */
export async function dropSchemas(url: string, schemas: readonly string[]): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
