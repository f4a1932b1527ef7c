/**
 * sql-variants.ts's enqueue variants: 20,000 rows as 5,000-row statements, two in flight
 * (as core sends a bulk) unless a variant says otherwise — the adapter's statement beside
 * whole bodies, `->>` reads, arrays, COPY, fillfactors and dropped indexes.
 */
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

import {
  argv,
  backendCpuUs,
  ENQUEUE_UNIFORM_018,
  freshSchema,
  inSchema,
  narrowElement,
  ownWalSince,
  payloads,
  pool,
  query,
  ROWS,
  SCHEMA,
  walLsn,
  type Payload,
} from "./sql-variants-common.js";

// ---- enqueue: one json parameter vs arrays, fillfactors, narrower bodies ----------------------

/** What the adapter sent before: bodies as a text[] (pg escapes every quote of every body). */
const ENQUEUE_ARRAYS = inSchema(`WITH inserted AS (
  INSERT INTO errand.jobs (id, job, queue, priority, run_at, state, body, executions, enqueued_at)
  SELECT id, $2, $3, $4, run_at, 'available', body, $5, enqueued_at
  FROM unnest($1::uuid[], $6::text[], $7::timestamptz[], $8::timestamptz[]) AS t(id, body, run_at, enqueued_at)
  RETURNING run_at
)
SELECT pg_notify($9, $3) WHERE EXISTS (SELECT 1 FROM inserted WHERE run_at <= now())`);

type Send = (client: pg.ClientBase, chunk: Payload[]) => Promise<unknown>;
interface EnqueueVariant {
  name: string;
  send: Send;
  /** The jobs table's fillfactor, when not the migrations'. */
  fillfactor?: number;
  /** SQL run on the fresh schema before the timed part (e.g. dropping an index). */
  setup?: string;
  /** Apply the migrations up to this one only (the layout before 010: 9). */
  migrations?: number;
  /** Rows per statement (default 5,000, the adapter's maxBatchSize) and statements in flight (default 2, core's). */
  chunk?: number;
  inFlight?: number;
}

/** enqueue-uniform.sql as the adapter sends it (narrow bodies). */
const sendUniform: Send = (client, chunk) =>
  client.query(query("enqueue-uniform.sql"), [
    JSON.stringify(chunk.map(narrowElement)),
    "NoopJob",
    "default",
    0,
    0,
    "bench_sql_variants",
    null,
  ]);
/** enqueue-uniform.sql as it was before migration 019 (the layouts before 019 have no batch_id). */
const sendUniform018: Send = (client, chunk) =>
  client.query(ENQUEUE_UNIFORM_018, [JSON.stringify(chunk.map(narrowElement)), "NoopJob", "default", 0, 0, "bench_sql_variants", null]);
/** enqueue-uniform.sql without its `ON CONFLICT (id) DO NOTHING` (before the relay's resends were stored once): the clause's cost. */
const UNIFORM_NO_CONFLICT = query("enqueue-uniform.sql").replace("ON CONFLICT (id) DO NOTHING\n", "");
if (UNIFORM_NO_CONFLICT === query("enqueue-uniform.sql")) throw new Error("enqueue-uniform.sql has no ON CONFLICT (id) DO NOTHING to leave out");
const sendUniformNoConflict: Send = (client, chunk) =>
  client.query(UNIFORM_NO_CONFLICT, [JSON.stringify(chunk.map(narrowElement)), "NoopJob", "default", 0, 0, "bench_sql_variants", null]);
/** Whole payloads as elements: stored as full bodies (as before narrow bodies). */
const sendUniformFull: Send = (client, chunk) => client.query(query("enqueue-uniform.sql"), [JSON.stringify(chunk), "NoopJob", "default", 0, 0, "bench_sql_variants", null]);
/** The body without the fields that have columns (id, job, queue, priority, executions, both dates): the adapter would rebuild them at reserve. */
const NARROW = inSchema(`WITH inserted AS (
  INSERT INTO errand.jobs (id, job, queue, priority, run_at, state, body, executions, enqueued_at)
  SELECT (p->>'id')::uuid, $2, $3, $4, (p->>'runAt')::timestamptz, 'available', p->>'body', $5, (p->>'enqueuedAt')::timestamptz
  FROM json_array_elements($1::json) AS p
  RETURNING id, run_at
),
woken AS (
  SELECT pg_notify($6, $3) WHERE EXISTS (SELECT 1 FROM inserted WHERE run_at <= now())
)
SELECT (SELECT count(*) FROM woken) AS woken, errand.notify_uuids($7, (SELECT array_agg(id) FROM inserted)) AS reported`);
const sendNarrow: Send = (client, chunk) =>
  client.query(NARROW, [
    JSON.stringify(chunk.map((p) => ({ id: p.id, runAt: p.runAt, enqueuedAt: p.enqueuedAt, body: JSON.stringify({ v: p.v, args: p.args }) }))),
    "NoopJob",
    "default",
    0,
    0,
    "bench_sql_variants",
    null,
  ]);

/** enqueue-uniform.sql before json_to_record: one `->>` per field, each scanning the element's text again. */
const ENQUEUE_ARROWS = inSchema(`WITH inserted AS (
  INSERT INTO errand.jobs (id, job, queue, priority, run_at, state, body, executions, enqueued_at)
  SELECT (p->>'id')::uuid, $2, $3, $4, (p->>'runAt')::timestamptz, 'available', p::text, $5, (p->>'enqueuedAt')::timestamptz
  FROM json_array_elements($1::json) AS p
  RETURNING id, run_at
),
woken AS (
  SELECT pg_notify($6, $3) WHERE EXISTS (SELECT 1 FROM inserted WHERE run_at <= now())
)
SELECT (SELECT count(*) FROM woken) AS woken, errand.notify_uuids($7, (SELECT array_agg(id) FROM inserted)) AS reported`);

/** COPY text format: `\\` doubled; JSON.stringify leaves no raw tab, newline or carriage return. */
const copyText = (text: string) => (text.includes("\\") ? text.replace(/\\/g, "\\\\") : text);
const COPY_COLUMNS = "id, job, queue, priority, run_at, state, body, executions, enqueued_at, lease_token";
/**
 * COPY FROM STDIN (text format) into jobs, then one statement for the wake-up (the ids are
 * this process's). `lease_token` is sent (\N: due now), so the variants that drop
 * migration 012's BEFORE INSERT trigger (with it, PostgreSQL stores row by row) store the same rows.
 */
function sendCopy(body: (p: Payload) => string): Send {
  return async (client, chunk) => {
    let text = "";
    for (const p of chunk) text += `${p.id}\tNoopJob\tdefault\t0\t${p.runAt}\tavailable\t${copyText(body(p))}\t0\t${p.enqueuedAt}\t\\N\n`;
    await new Promise<void>((resolve, reject) => {
      const stream = client.query(copyFrom(`COPY "${SCHEMA}".jobs (${COPY_COLUMNS}) FROM STDIN`));
      stream.on("error", reject);
      stream.on("finish", resolve);
      stream.end(text);
    });
    await client.query("SELECT pg_notify($1, $2)", ["bench_sql_variants", "default"]);
  };
}
const DROP_TRIGGER = `DROP TRIGGER jobs_scheduled_token ON "${SCHEMA}".jobs`;
const narrowBody = (p: Payload) => JSON.stringify({ v: p.v, args: p.args });

const FILLFACTORS = argv.includes("--fillfactors") ? [60, 70, 80, 100] : [];
export const enqueueVariants: EnqueueVariant[] = [
  { name: "current (enqueue-uniform.sql: one json parameter, narrow bodies, fillfactor 50)", send: sendUniform },
  { name: "without ON CONFLICT (id) DO NOTHING (before migration 018)", send: sendUniformNoConflict },
  { name: "full bodies (before narrow bodies)", send: sendUniformFull },
  {
    name: "fields read with one ->> each (before json_to_record)",
    send: (client, chunk) => client.query(ENQUEUE_ARROWS, [JSON.stringify(chunk), "NoopJob", "default", 0, 0, "bench_sql_variants", null]),
  },
  { name: "before 019 (018's enqueue-uniform: no batch_id)", send: sendUniform018, migrations: 18 },
  { name: "before 010 (migrations 001–009)", send: sendUniform018, migrations: 9 },
  { name: "5,000-row statements, one in flight", send: sendUniform, inFlight: 1 },
  { name: "10,000-row statements, two in flight", send: sendUniform, chunk: 10_000 },
  { name: "one 20,000-row statement", send: sendUniform, chunk: 20_000, inFlight: 1 },
  ...FILLFACTORS.map((fillfactor) => ({ name: `fillfactor ${fillfactor}`, send: sendUniform, fillfactor })),
  { name: "body without the columns' copies", send: sendNarrow },
  { name: "COPY (012's BEFORE INSERT trigger kept: row by row)", send: sendCopy((p) => JSON.stringify(p)) },
  { name: "COPY, no BEFORE INSERT trigger (multi-insert)", send: sendCopy((p) => JSON.stringify(p)), setup: DROP_TRIGGER },
  { name: "COPY, no trigger, body without the columns' copies", send: sendCopy(narrowBody), setup: DROP_TRIGGER },
  { name: "without the jobs_ready_by_queue index", send: sendUniform, setup: `DROP INDEX "${SCHEMA}".jobs_ready_by_queue` },
  {
    name: "arrays: uuid[], text[] bodies, timestamptz[] ×2",
    send: (client, chunk) =>
      client.query(ENQUEUE_ARRAYS, [
        chunk.map((p) => p.id),
        "NoopJob",
        "default",
        0,
        0,
        chunk.map((p) => JSON.stringify(p)),
        chunk.map((p) => p.runAt),
        chunk.map((p) => p.enqueuedAt),
        "bench_sql_variants",
      ]),
  },
];


export async function enqueueOnce(variant: EnqueueVariant): Promise<{ rate: number; cpuUs: number; pgCpuUs: number; ownWal: number; pages: number }> {
  await freshSchema(variant.migrations);
  if (variant.fillfactor !== undefined) await pool.query(`ALTER TABLE "${SCHEMA}".jobs SET (fillfactor = ${variant.fillfactor})`);
  if (variant.setup) await pool.query(variant.setup);
  const rows = payloads(ROWS);
  // Two connections of their own, so their backends' CPU is the statements' and nothing else's.
  const clients = await Promise.all(Array.from({ length: variant.inFlight ?? 2 }, () => pool.connect()));
  try {
    const pids = await Promise.all(clients.map(async (c) => (await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid));
    const wal = await walLsn();
    const pgCpu = pids.reduce((sum, pid) => sum + backendCpuUs(pid), 0);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const chunks: Payload[][] = [];
    const rowsPerChunk = variant.chunk ?? 5000;
    for (let i = 0; i < rows.length; i += rowsPerChunk) chunks.push(rows.slice(i, i + rowsPerChunk));
    // Two in flight by default, as core sends an oversized bulk.
    await Promise.all(
      clients.map(async (client) => {
        for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) await variant.send(client, chunk);
      }),
    );
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const pgCpuUs = (pids.reduce((sum, pid) => sum + backendCpuUs(pid), 0) - pgCpu) / ROWS;
    const ownWal = (await ownWalSince(wal)) / ROWS;
    const { rows: size } = await pool.query<{ pages: string }>(`SELECT pg_relation_size('"${SCHEMA}".jobs') / 8192 AS pages`);
    return { rate: (ROWS / ms) * 1000, cpuUs: (used.user + used.system) / ROWS, pgCpuUs, ownWal, pages: Number(size[0]!.pages) };
  } finally {
    for (const client of clients) client.release();
  }
}
