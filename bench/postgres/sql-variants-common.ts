/**
 * What sql-variants.ts and its enqueue variants share: the command line, the bench schema
 * (migrated from packages/adapter-postgres), the pool, WAL and CPU readings, the jobs.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { uuidv7 } from "@errand/core/adapter";
import pg from "pg";

import { BENCH_DIR } from "../lib/profile.js";

export const URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const SQL_DIR = join(BENCH_DIR, "..", "packages", "adapter-postgres", "sql");
export const SCHEMA = "bench_sql_variants";
export const WALINSPECT = "bench_sql_variants_walinspect";
export const ROWS = 20_000;

export const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const index = argv.indexOf(name);
  return index >= 0 ? Number(argv[index + 1]) : fallback;
};
export const REPS = option("--reps", 5);
export const BATCH = option("--batch", 800);
/** CHECKPOINT before each drain: every page's first change then writes the whole page to WAL, as after any checkpoint. */
export const CHECKPOINT = argv.includes("--checkpoint");
/** Only the drain variants. */
export const DRAIN_ONLY = argv.includes("--drain-only");
/** Only the enqueue variants. */
export const ENQUEUE_ONLY = argv.includes("--enqueue-only");

export const inSchema = (text: string) => text.replace(/\berrand\./g, `"${SCHEMA}".`);
export const migration = (file: string) => inSchema(readFileSync(join(SQL_DIR, "migrations", file), "utf8"));
export const query = (file: string) => inSchema(readFileSync(join(SQL_DIR, "queries", file), "utf8"));

export const pool = new pg.Pool({ connectionString: URL, max: 5 });
pool.on("error", () => undefined);

export async function walLsn(): Promise<string> {
  return (await pool.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0]!.lsn;
}
export async function walSince(lsn: string): Promise<number> {
  return Number((await pool.query<{ d: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::text AS d", [lsn])).rows[0]!.d);
}

/** A fresh bench schema, migrated up to `last` (default: every migration). */
export async function freshSchema(last = Infinity): Promise<void> {
  await pool.query(`SET client_min_messages = warning; DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE; CREATE SCHEMA "${SCHEMA}"`);
  for (const file of readdirSync(join(SQL_DIR, "migrations")).sort()) if (Number(file.slice(0, 3)) <= last) await pool.query(migration(file));
}

/**
 * WAL written for the bench schema's own relations (tables, indexes, TOAST, sequences)
 * since `lsn`, read back with pg_walinspect (in a schema of its own, dropped at the end):
 * the cluster-wide LSN difference also counts what other processes wrote meanwhile, which on
 * a shared machine is most of it. Commit records name no relation and are left out (a few
 * bytes per statement, not per job).
 */
export async function ownWalSince(lsn: string): Promise<number> {
  await pool.query(`SET client_min_messages = warning; CREATE SCHEMA IF NOT EXISTS ${WALINSPECT}; CREATE EXTENSION IF NOT EXISTS pg_walinspect SCHEMA ${WALINSPECT}`);
  const { rows } = await pool.query<{ bytes: string | null }>(
    `WITH rels AS (
       SELECT string_agg(pg_relation_filenode(c.oid)::text, '|') AS nodes FROM pg_class AS c
       JOIN pg_namespace AS n ON n.oid = c.relnamespace
       WHERE n.nspname = $2 OR c.oid IN (SELECT t.reltoastrelid FROM pg_class AS t JOIN pg_namespace AS m ON m.oid = t.relnamespace WHERE m.nspname = $2)
     )
     SELECT sum(w.record_length)::text AS bytes
     FROM ${WALINSPECT}.pg_get_wal_records_info($1::pg_lsn, pg_current_wal_flush_lsn()) AS w, rels
     WHERE w.block_ref ~ ('rel [0-9]+/' || (SELECT oid FROM pg_database WHERE datname = current_database()) || '/(' || rels.nodes || ') ')`,
    [lsn, SCHEMA],
  );
  return Number(rows[0]?.bytes ?? 0);
}

export interface Payload {
  v: number;
  job: string;
  id: string;
  queue: string;
  priority: number;
  args: { json: number[] };
  executions: number;
  enqueuedAt: string;
  runAt: string;
}

/** Job ids as core makes them (UUIDv7, time-ordered), or random (v4) ones for comparison. */
export function payloads(count: number, id: () => string = uuidv7): Payload[] {
  const now = new Date().toISOString();
  return Array.from({ length: count }, (_, i) => ({
    v: 1,
    job: "NoopJob",
    id: id(),
    queue: "default",
    priority: 0,
    args: { json: [i] },
    executions: 0,
    enqueuedAt: now,
    runAt: now,
  }));
}

/** A uniform batch's element as the adapter sends it: the job's columns plus `_narrow`, the rest of its payload (src/body.ts). */
export function narrowElement(p: Payload): object {
  return { id: p.id, runAt: p.runAt, enqueuedAt: p.enqueuedAt, _narrow: { job: p.job, queue: p.queue, args: p.args, executions: p.executions, enqueuedAt: p.enqueuedAt } };
}

/** CPU time (user + system) of a server process, in µs, from /proc (the server runs on this machine). */
export function backendCpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after "pid (comm) ".
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

/** enqueue-uniform.sql as it was before migration 019 (no batch_id, no batch counting): for the layouts before it. */
export const ENQUEUE_UNIFORM_018 = inSchema(`WITH inserted AS (
  INSERT INTO errand.jobs (id, job, queue, priority, run_at, state, body, executions, enqueued_at)
  SELECT r.id, $2, $3, $4, r."runAt", 'available', CASE WHEN r._narrow IS NULL THEN p::text ELSE '_' || r._narrow::text END, $5, r."enqueuedAt"
  FROM json_array_elements($1::json) AS p, json_to_record(p) AS r(id uuid, "runAt" timestamptz, "enqueuedAt" timestamptz, _narrow json)
  ON CONFLICT (id) DO NOTHING
  RETURNING id, run_at
),
woken AS (
  SELECT pg_notify($6, $3) WHERE EXISTS (SELECT 1 FROM inserted WHERE run_at <= statement_timestamp())
)
SELECT (SELECT count(*) FROM woken) AS woken, errand.notify_uuids($7, (SELECT array_agg(id) FROM inserted)) AS reported`);
