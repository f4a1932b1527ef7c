/**
 * Errand's PostgreSQL statements next to alternatives, without core or a worker in the way:
 * the numbers behind the suggestions in README.md ("Where Errand's time goes").
 *
 *   npx tsc -b bench && node bench/dist/postgres/sql-variants.js [--reps 5] [--batch 800] [--checkpoint] [--drain-only | --enqueue-only] [--fillfactors] [--only REGEX]
 *
 * `--only REGEX` keeps the variants whose name matches (e.g. `--only 'current|ON CONFLICT'`);
 * `--drain-only` skips the enqueue variants, `--enqueue-only` the drains; `--fillfactors` adds drains and enqueues at
 * fillfactor 60, 70, 80 and 100 (migration 010 set 50). WAL is reported twice: the cluster's (whatever
 * else the server wrote meanwhile counts too) and that of the bench schema's own relations.
 *
 * Drain variants: 20,000 ready rows, then reserve `--batch` rows and settle them, over and
 * over on one connection until none is left; the time of each statement as the client sees it
 * (round trip included), and the WAL written, per job. Enqueue variants: 20,000 rows as
 * 5,000-row statements, two in flight (as core sends a bulk), with this process's CPU time.
 * Variants take turns within each repetition, in reverse order every other one (so none always
 * runs first, after the warm-up, or right after the same neighbour); each figure is the median
 * of the repetitions.
 * The SQL is read from packages/adapter-postgres, so the "current" rows follow the adapter.
 * The drain variants and the run are here; the enqueue variants in sql-variants-enqueue.ts,
 * what both use in sql-variants-common.ts.
 */
import pg from "pg";

import { median } from "../lib/stats.js";
import {
  BATCH,
  CHECKPOINT,
  DRAIN_ONLY,
  ENQUEUE_ONLY,
  freshSchema,
  inSchema,
  narrowElement,
  ownWalSince,
  payloads,
  pool,
  query,
  REPS,
  ROWS,
  SCHEMA,
  walLsn,
  walSince,
  backendCpuUs,
  WALINSPECT,
  argv,
  ENQUEUE_UNIFORM_018,
  type Payload,
} from "./sql-variants-common.js";
import { enqueueOnce, enqueueVariants } from "./sql-variants-enqueue.js";

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
  /** The enqueue statement (default: enqueue-uniform.sql); a layout before 019 needs 018's. */
  enqueue?: string;
  /** Every job in one batch (migration 019), sealed before the drain: each settle counts into it, the last one finishes it. */
  batch?: boolean;
}

const settleSucceeded: DrainVariant["settle"] = (client, ids, tokens) => client.query(SETTLE_SUCCEEDED, [JSON.stringify(ids.map((id, i) => [id, tokens[i], null])), null, "bench_sql_variants"]);
/** settle-succeeded.sql as it was before migration 010 (three arrays; it cleared the lease token). */
const SETTLE_SUCCEEDED_009 = inSchema(`UPDATE errand.jobs AS jobs
SET state = 'succeeded', result = u.result, finished_at = now(), lease_token = NULL, lease_until = NULL, updated_at = now()
FROM unnest($1::uuid[], $2::bigint[], $3::text[]) AS u(id, token, result)
WHERE jobs.id = u.id AND jobs.lease_token = u.token AND jobs.state = 'running'`);

/** settle-succeeded.sql as it was before migration 019 (no batch counting). */
const SETTLE_SUCCEEDED_018 = inSchema(`WITH settled AS (
UPDATE errand.jobs AS jobs
SET state = 'succeeded', result = u.result, finished_at = now(), updated_at = now()
FROM (SELECT (e->>0)::uuid AS id, (e->>1)::bigint AS token, e->>2 AS result FROM json_array_elements($1::json) AS e) AS u
WHERE jobs.id = u.id AND jobs.lease_token = u.token AND jobs.state = 'running'
RETURNING jobs.id, jobs.concurrency_key
),
freed AS (
  DELETE FROM errand.slots AS s USING settled WHERE s.key = settled.concurrency_key AND s.job_id = settled.id
)
SELECT errand.notify_uuids($2, array_agg(id)) AS reported,
       errand.flow_release(array_agg(concurrency_key) FILTER (WHERE concurrency_key IS NOT NULL), $3, coalesce($2, '')) AS unparked
FROM settled`);
/** The batch of the `batch` variant. */
const BATCH_ID = "0190b000-0000-7000-8000-00000000b019";

const drainVariants: DrainVariant[] = [
  { name: "current (settle-succeeded.sql)", settle: settleSucceeded },
  {
    name: "before 019 (018's enqueue and settle: no batch_id)",
    migrations: 18,
    enqueue: ENQUEUE_UNIFORM_018,
    settle: (client, ids, tokens) => client.query(SETTLE_SUCCEEDED_018, [JSON.stringify(ids.map((id, i) => [id, tokens[i], null])), null, "bench_sql_variants"]),
  },
  { name: "every job in one batch (019)", batch: true, settle: settleSucceeded },
  {
    name: "every job in one batch, its id in the body too (as the adapter stores it)",
    batch: true,
    body: (payload) => {
      const element = narrowElement(payload) as { _narrow: object };
      return { ...element, _narrow: { ...element._narrow, batch: { id: BATCH_ID } } };
    },
    settle: settleSucceeded,
  },
  {
    name: "before 010 (migrations 001–009, their settle)",
    migrations: 9,
    enqueue: ENQUEUE_UNIFORM_018,
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
  const rows = payloads(ROWS, variant.id).map((payload) => {
    const row = variant.body?.(payload) ?? narrowElement(payload);
    return variant.batch ? { ...row, batchId: BATCH_ID } : row;
  });
  if (variant.batch) await pool.query(`INSERT INTO "${SCHEMA}".job_batches (id, created_at) VALUES ($1, now())`, [BATCH_ID]);
  for (let start = 0; start < ROWS; start += 5000) {
    await pool.query(variant.enqueue ?? query("enqueue-uniform.sql"), [JSON.stringify(rows.slice(start, start + 5000)), "NoopJob", "default", 0, 0, "bench_sql_variants", null]);
  }
  if (variant.batch) await pool.query(`SELECT "${SCHEMA}".batch_seal(ARRAY[$1::uuid], 'bench_sql_variants', '')`, [BATCH_ID]);
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
    if (variant.batch) {
      const { rows: batch } = await client.query<{ state: string; succeeded: number }>(`SELECT state, succeeded FROM "${SCHEMA}".job_batches`);
      if (batch[0]?.state !== "finished" || batch[0].succeeded !== ROWS) throw new Error(`the batch was not counted: ${JSON.stringify(batch)}`);
    }
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

// ---- run -------------------------------------------------------------------------------

const onlyAt = argv.indexOf("--only");
const only = onlyAt >= 0 ? new RegExp(argv[onlyAt + 1] ?? "") : undefined;
const chosenDrains = drainVariants.filter((variant) => only === undefined || only.test(variant.name));
const chosenEnqueues = enqueueVariants.filter((variant) => only === undefined || only.test(variant.name));
const drains = chosenDrains.map(() => [] as Awaited<ReturnType<typeof drainOnce>>[]);
const enqueues = chosenEnqueues.map(() => [] as Awaited<ReturnType<typeof enqueueOnce>>[]);
await enqueueOnce(enqueueVariants[0]!); // warm-up
for (let rep = 1; rep <= REPS; rep++) {
  process.stderr.write(`repetition ${rep}/${REPS}\n`);
  const order = <T>(list: T[]): [number, T][] => (rep % 2 === 0 ? [...list.entries()].reverse() : [...list.entries()]);
  if (!ENQUEUE_ONLY) for (const [i, variant] of order(chosenDrains)) drains[i]!.push(await drainOnce(variant));
  if (!DRAIN_ONLY) for (const [i, variant] of order(chosenEnqueues)) enqueues[i]!.push(await enqueueOnce(variant));
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
  for (const [i, variant] of chosenDrains.entries()) {
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
  for (const [i, variant] of chosenEnqueues.entries()) {
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
