/**
 * Errand's PostgreSQL statements next to alternatives, without core or a worker in the way:
 * the numbers behind the suggestions in README.md ("Where Errand's time goes").
 *
 *   npx tsc -b bench && node bench/dist/postgres/sql-variants.js [--reps 5] [--batch 800] [--checkpoint] [--drain-only | --enqueue-only] [--fillfactors]
 *
 * `--drain-only` skips the enqueue variants, `--enqueue-only` the drains; `--fillfactors` adds drains and enqueues at
 * fillfactor 60, 70, 80 and 100 (migration 010 set 50). WAL is reported twice: the cluster's (whatever
 * else the server wrote meanwhile counts too) and that of the bench schema's own relations.
 *
 * Drain variants: 20,000 ready rows, then reserve `--batch` rows and settle them, over and
 * over on one connection until none is left; the time of each statement as the client sees it
 * (round trip included), and the WAL written, per job. Enqueue variants: 20,000 rows as
 * 5,000-row statements, two in flight (as core sends a bulk), with this process's CPU time.
 * Variants take turns within each repetition; each figure is the median of the repetitions.
 * The SQL is read from packages/adapter-postgres, so the "current" rows follow the adapter.
 */
import { readdirSync, readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";

import { uuidv7 } from "@errand/core/adapter";
import { join } from "node:path";

import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

import { BENCH_DIR } from "../lib/profile.js";
import { median } from "../lib/stats.js";

const URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const SQL_DIR = join(BENCH_DIR, "..", "packages", "adapter-postgres", "sql");
const SCHEMA = "bench_sql_variants";
const WALINSPECT = "bench_sql_variants_walinspect";
const ROWS = 20_000;

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const index = argv.indexOf(name);
  return index >= 0 ? Number(argv[index + 1]) : fallback;
};
const REPS = option("--reps", 5);
const BATCH = option("--batch", 800);
/** CHECKPOINT before each drain: every page's first change then writes the whole page to WAL, as after any checkpoint. */
const CHECKPOINT = argv.includes("--checkpoint");
/** Only the drain variants. */
const DRAIN_ONLY = argv.includes("--drain-only");
/** Only the enqueue variants. */
const ENQUEUE_ONLY = argv.includes("--enqueue-only");

const inSchema = (text: string) => text.replace(/\berrand\./g, `"${SCHEMA}".`);
const migration = (file: string) => inSchema(readFileSync(join(SQL_DIR, "migrations", file), "utf8"));
const query = (file: string) => inSchema(readFileSync(join(SQL_DIR, "queries", file), "utf8"));

const pool = new pg.Pool({ connectionString: URL, max: 5 });
pool.on("error", () => undefined);

async function walLsn(): Promise<string> {
  return (await pool.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0]!.lsn;
}
async function walSince(lsn: string): Promise<number> {
  return Number((await pool.query<{ d: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::text AS d", [lsn])).rows[0]!.d);
}

/** A fresh bench schema, migrated up to `last` (default: every migration). */
async function freshSchema(last = Infinity): Promise<void> {
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
async function ownWalSince(lsn: string): Promise<number> {
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

interface Payload {
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
function payloads(count: number, id: () => string = uuidv7): Payload[] {
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
function narrowElement(p: Payload): object {
  return { id: p.id, runAt: p.runAt, enqueuedAt: p.enqueuedAt, _narrow: { job: p.job, queue: p.queue, args: p.args, executions: p.executions, enqueuedAt: p.enqueuedAt } };
}

// ---- drain: reserve + settle ----------------------------------------------------------

const SETTLE = query("settle.sql");
const SETTLE_SUCCEEDED = query("settle-succeeded.sql");
/** Succeeded jobs deleted instead of kept (what graphile-worker does; Errand would lose their status). */
const DELETE_SUCCEEDED = inSchema(`DELETE FROM errand.jobs AS jobs
USING unnest($1::uuid[], $2::bigint[]) AS u(id, token)
WHERE jobs.id = u.id AND jobs.lease_token = u.token AND jobs.state = 'running'`);

interface DrainVariant {
  name: string;
  /** The element enqueue-uniform.sql gets per job (default: as the adapter sends it, a narrow body). */
  body?: (payload: Payload) => object;
  /** Job ids. Default: core's UUIDv7. */
  id?: () => string;
  settle: (client: pg.PoolClient, ids: string[], tokens: string[]) => Promise<unknown>;
  /** The jobs table's fillfactor, when not the migrations' (50, migration 010). */
  fillfactor?: number;
  /** Apply the migrations up to this one only (the layout before 010: 9). */
  migrations?: number;
}

const settleSucceeded: DrainVariant["settle"] = (client, ids, tokens) => client.query(SETTLE_SUCCEEDED, [JSON.stringify(ids.map((id, i) => [id, tokens[i], null])), null, "bench_sql_variants"]);
/** settle-succeeded.sql as it was before migration 010 (three arrays; it cleared the lease token). */
const SETTLE_SUCCEEDED_009 = inSchema(`UPDATE errand.jobs AS jobs
SET state = 'succeeded', result = u.result, finished_at = now(), lease_token = NULL, lease_until = NULL, updated_at = now()
FROM unnest($1::uuid[], $2::bigint[], $3::text[]) AS u(id, token, result)
WHERE jobs.id = u.id AND jobs.lease_token = u.token AND jobs.state = 'running'`);

const drainVariants: DrainVariant[] = [
  { name: "current (settle-succeeded.sql)", settle: settleSucceeded },
  {
    name: "before 010 (migrations 001–009, their settle)",
    migrations: 9,
    settle: (client, ids, tokens) => client.query(SETTLE_SUCCEEDED_009, [ids, tokens, ids.map(() => null)]),
  },
  ...(argv.includes("--fillfactors") ? [60, 70, 80, 100] : [90]).map((fillfactor) => ({ name: `fillfactor ${fillfactor}`, settle: settleSucceeded, fillfactor })),
  { name: "full bodies (before narrow bodies)", body: (payload) => payload, settle: settleSucceeded },
  { name: "delete on success (no status kept)", settle: (client, ids, tokens) => client.query(DELETE_SUCCEEDED, [ids, tokens]) },
];

async function drainOnce(
  variant: DrainVariant,
): Promise<{ reserveUs: number; settleUs: number; walBytes: number; ownWal: number; hot: number; pgCpuUs: number; dead: number; pages: number }> {
  await freshSchema(variant.migrations);
  if (variant.fillfactor !== undefined) await pool.query(`ALTER TABLE "${SCHEMA}".jobs SET (fillfactor = ${variant.fillfactor})`);
  const rows = payloads(ROWS, variant.id).map((payload) => variant.body?.(payload) ?? narrowElement(payload));
  for (let start = 0; start < ROWS; start += 5000) {
    await pool.query(query("enqueue-uniform.sql"), [JSON.stringify(rows.slice(start, start + 5000)), "NoopJob", "default", 0, 0, "bench_sql_variants", null]);
  }
  await pool.query(`VACUUM ANALYZE "${SCHEMA}".jobs`);
  if (CHECKPOINT) await pool.query("CHECKPOINT");
  const client = await pool.connect();
  try {
    const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
    const wal = await walLsn();
    const pgCpu = backendCpuUs(pid);
    let reserveMs = 0;
    let settleMs = 0;
    let done = 0;
    for (;;) {
      let t = performance.now();
      const { rows: reserved } = await client.query<{ id: string; lease_token: string }>(`SELECT * FROM "${SCHEMA}".reserve_any($1, $2, $3)`, [BATCH, 300_000, "w"]);
      reserveMs += performance.now() - t;
      if (reserved.length === 0) break;
      done += reserved.length;
      t = performance.now();
      await variant.settle(
        client,
        reserved.map((r) => r.id),
        reserved.map((r) => r.lease_token),
      );
      settleMs += performance.now() - t;
    }
    if (done !== ROWS) throw new Error(`reserved ${done} of ${ROWS}`);
    const pgCpuUs = (backendCpuUs(pid) - pgCpu) / done;
    const walBytes = (await walSince(wal)) / done;
    const ownWal = (await ownWalSince(wal)) / done;
    // The share of the jobs table's updates that were HOT (this connection's counts, flushed now).
    await client.query("SELECT pg_stat_force_next_flush()");
    const { rows: stat } = await client.query<{ hot: string; upd: string; dead: string; pages: string }>(
      "SELECT n_tup_hot_upd AS hot, n_tup_upd AS upd, n_dead_tup AS dead, pg_relation_size(relid) / 8192 AS pages FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'jobs'",
      [SCHEMA],
    );
    const hot = Number(stat[0]?.hot ?? 0) / Math.max(1, Number(stat[0]?.upd ?? 0));
    const dead = Number(stat[0]?.dead ?? 0);
    const pages = Number(stat[0]?.pages ?? 0);
    return { reserveUs: (reserveMs * 1000) / done, settleUs: (settleMs * 1000) / done, walBytes, ownWal, hot, pgCpuUs, dead, pages };
  } finally {
    client.release();
  }
}

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
const enqueueVariants: EnqueueVariant[] = [
  { name: "current (enqueue-uniform.sql: one json parameter, narrow bodies, fillfactor 50)", send: sendUniform },
  { name: "full bodies (before narrow bodies)", send: sendUniformFull },
  {
    name: "fields read with one ->> each (before json_to_record)",
    send: (client, chunk) => client.query(ENQUEUE_ARROWS, [JSON.stringify(chunk), "NoopJob", "default", 0, 0, "bench_sql_variants", null]),
  },
  { name: "before 010 (migrations 001–009)", send: sendUniform, migrations: 9 },
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

/** CPU time (user + system) of a server process, in µs, from /proc (the server runs on this machine). */
function backendCpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after "pid (comm) ".
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

async function enqueueOnce(variant: EnqueueVariant): Promise<{ rate: number; cpuUs: number; pgCpuUs: number; ownWal: number; pages: number }> {
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

// ---- run -------------------------------------------------------------------------------

const drains = drainVariants.map(() => [] as Awaited<ReturnType<typeof drainOnce>>[]);
const enqueues = enqueueVariants.map(() => [] as Awaited<ReturnType<typeof enqueueOnce>>[]);
await enqueueOnce(enqueueVariants[0]!); // warm-up
for (let rep = 1; rep <= REPS; rep++) {
  process.stderr.write(`repetition ${rep}/${REPS}\n`);
  if (!ENQUEUE_ONLY) for (const [i, variant] of drainVariants.entries()) drains[i]!.push(await drainOnce(variant));
  if (!DRAIN_ONLY) for (const [i, variant] of enqueueVariants.entries()) enqueues[i]!.push(await enqueueOnce(variant));
}
await pool.query(`DROP SCHEMA "${SCHEMA}" CASCADE; DROP SCHEMA IF EXISTS ${WALINSPECT} CASCADE`);
await pool.end();

const m = (values: number[], digits = 1) => median(values).toFixed(digits);
if (!ENQUEUE_ONLY) {
  console.log(`\n## reserve ${BATCH} + settle, ${ROWS.toLocaleString("en-US")} jobs, one connection${CHECKPOINT ? ", after a CHECKPOINT" : ""} (median of ${REPS})\n`);
  console.log(
    "| variant | reserve µs/job | settle µs/job | total µs/job | jobs/s | backend CPU µs/job | WAL B/job (cluster) | WAL B/job (own tables) | HOT updates | dead tuples after | table pages after |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const [i, variant] of drainVariants.entries()) {
    const runs = drains[i]!;
    const total = median(runs.map((r) => r.reserveUs + r.settleUs));
    console.log(
      `| ${variant.name} | ${m(runs.map((r) => r.reserveUs))} | ${m(runs.map((r) => r.settleUs))} | ${total.toFixed(1)} | ${Math.round(1e6 / total).toLocaleString("en-US")} | ${m(runs.map((r) => r.pgCpuUs))} | ${m(
        runs.map((r) => r.walBytes),
        0,
      )} | ${m(
        runs.map((r) => r.ownWal),
        0,
      )} | ${(median(runs.map((r) => r.hot)) * 100).toFixed(0)} % | ${m(
        runs.map((r) => r.dead),
        0,
      )} | ${m(
        runs.map((r) => r.pages),
        0,
      )} |`,
    );
  }
}
if (!DRAIN_ONLY) {
  console.log(`\n## enqueue ${ROWS.toLocaleString("en-US")} jobs as 5,000-row statements, two in flight (median of ${REPS})\n`);
  console.log("| variant | jobs/s | this process's CPU µs/job | PostgreSQL backends' CPU µs/job | WAL B/job (own tables) | table pages |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const [i, variant] of enqueueVariants.entries()) {
    const runs = enqueues[i]!;
    console.log(
      `| ${variant.name} | ${Math.round(median(runs.map((r) => r.rate))).toLocaleString("en-US")} | ${m(runs.map((r) => r.cpuUs))} | ${m(runs.map((r) => r.pgCpuUs))} | ${m(
        runs.map((r) => r.ownWal),
        0,
      )} | ${m(
        runs.map((r) => r.pages),
        0,
      )} |`,
    );
  }
}
