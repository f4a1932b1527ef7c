/**
 * `errand doctor`'s look at PostgreSQL (`Diagnosis`, core's `adapter/diagnosis.ts`), shared by
 * the adapter and `PostgresStatusStore`: one round trip, and which numbered migrations the
 * schema lacks. It reads on a client of its own, made with the pool's settings plus a
 * connect and query timeout (a pool waits for a server that does not answer as long as the
 * operating system lets it, two minutes and more), and never through the `MigrationGate`:
 * a doctor that migrated on its way would hide the very thing it is asked about.
 *
 * @module
 */
import pg from "pg";

import type { SchemaDiagnosis } from "@errand/core/adapter";

import { loadMigrations, quoteSchema } from "./sql.js";

/** What {@link diagnosePostgres} found. */
export interface PostgresDiagnosis {
  latencyMs: number;
  /** `host:port/database`, without credentials. */
  target: string;
  schema: SchemaDiagnosis;
}

/**
 * Connects with `config` (bounded by `timeoutMs`), times `SELECT 1`, and compares the
 * schema's `migrations` table with the migrations this version ships. A schema not created
 * yet has every migration pending.
 */
export async function diagnosePostgres(config: pg.ClientConfig, schema: string, timeoutMs: number): Promise<PostgresDiagnosis> {
  const quoted = quoteSchema(schema);
  const client = new pg.Client({ ...config, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, application_name: "errand-doctor" });
  // A server that drops the connection emits "error" on the client; the query rejects anyway.
  client.on("error", () => undefined);
  try {
    await client.connect();
    const started = performance.now();
    await client.query("SELECT 1");
    const latencyMs = Math.round(performance.now() - started);
    const { rows } = await client.query<{ table: string | null }>("SELECT to_regclass($1)::text AS table", [`${quoted}.migrations`]);
    const applied = new Map<number, string>();
    if (rows[0]?.table) {
      const result = await client.query<{ id: number; name: string }>(`SELECT id, name FROM ${quoted}.migrations ORDER BY id`);
      for (const row of result.rows) applied.set(row.id, row.name);
    }
    const known = loadMigrations(schema);
    const diagnosis: SchemaDiagnosis = {
      name: `schema "${schema}"`,
      pending: known.filter((migration) => !applied.has(migration.id)).map((migration) => migration.name),
    };
    const last = known.at(-1)?.id ?? 0;
    const newer = [...applied].filter(([id]) => id > last);
    if (newer.length > 0) {
      diagnosis.newer = `migration ${newer.map(([, name]) => name).join(", ")} applied, this version of @errand/adapter-postgres knows up to ${known.at(-1)?.name ?? "none"}`;
    }
    return { latencyMs, target: `${client.host}:${client.port}/${client.database ?? ""}`, schema: diagnosis };
  } finally {
    await client.end().catch(() => undefined);
  }
}
