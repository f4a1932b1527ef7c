/**
 * Issue 15's dashboard bench on PostgreSQL: what an operator's pages cost with 1,000,000
 * jobs stored.
 *
 *   npx tsc -b bench && node bench/dist/dashboard/postgres.js             # 1M jobs, median of 5
 *   node bench/dist/dashboard/postgres.js --scale 0.1 --runs 3            # 100k jobs: a quick look
 *   node bench/dist/dashboard/postgres.js --keep                          # leave the schema (prints its name)
 *   node bench/dist/dashboard/postgres.js --reuse errand_bench_dash_…     # measure a kept schema again
 *
 * The jobs go in as rows, by INSERT … SELECT generate_series in a schema of its own
 * (DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test), dropped at the end, in the
 * shapes the adapter leaves them (migration 014's triggers count them as they go in):
 * 900k succeeded, 50k ready, 30k scheduled, 10k running, 5k retrying and 5k dead, over 6
 * queues (40/25/15/10/6/4 %), of four job classes (60/30/9/1 %), as bench/dashboard/shape.ts has it;
 * finished, dead and running jobs in batches of 1,000 (a drain at full prefetch), and an hour
 * of throughput from 60 beats. Then VACUUM ANALYZE (what autovacuum does on a live server),
 * and each listing is timed, one warm-up and `--runs` timed calls, median; the page is 50
 * jobs. For the record, the count(*) … GROUP BY that `listQueues` ran before migration 014 is
 * timed too. Writes bench/results/dashboard-postgres-latest.json (a `--scale` or `--runs`
 * run: …latest.partial.json).
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";

import pg from "pg";

import { PostgresAdapter } from "@errand/adapter-postgres";

import { machineFacts } from "../lib/machine.js";
import { BENCH_DIR } from "../lib/profile.js";
import { timeListings } from "./listings.js";
import { countsLine, HOUR, hourOfBeats, QUEUES, queueCounts, type StateName } from "./shape.js";
import { dashboardOptions, type DashboardOptions } from "./timing.js";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
/** The listQueues statement before migration 014: every unfinished row read. */
const NAIVE_COUNTS = `SELECT queue,
  count(*) FILTER (WHERE state = 'parked' OR (state = 'available' AND (deferred OR (run_at <= now() AND error IS NULL)))) AS queued,
  count(*) FILTER (WHERE state = 'available' AND NOT deferred AND run_at > now() AND error IS NULL) AS scheduled,
  count(*) FILTER (WHERE state = 'running') AS running,
  count(*) FILTER (WHERE state = 'available' AND NOT deferred AND error IS NOT NULL) AS retrying,
  count(*) FILTER (WHERE state = 'dead') AS dead,
  count(*) FILTER (WHERE state = 'succeeded') AS succeeded, count(*) FILTER (WHERE state = 'failed') AS failed
FROM %s.jobs GROUP BY queue ORDER BY queue`;

/** The command line, and a `--reuse` that names a schema this bench kept. */
function args(): DashboardOptions {
  const out = dashboardOptions("node bench/dist/dashboard/postgres.js [--scale F] [--runs N] [--keep] [--reuse SCHEMA]");
  if (out.reuse !== undefined && !/^errand_bench_dash_\w+$/.test(out.reuse)) throw new Error(`--reuse takes a schema this bench kept (errand_bench_dash_…), got ${JSON.stringify(out.reuse)}`);
  return out;
}

/**
 * One state's jobs of one queue, `count` of them numbered from `from`, as rows: the class by
 * `i % 100` (60/30/9/1), priority 5 for every tenth, a full wire-format body.
 */
function insertJobs(schema: string, queue: string, state: StateName, from: number, count: number): string {
  const shape: Record<StateName, { state: string; runAt: string; extra: string }> = {
    succeeded: { state: "'succeeded'", runAt: "now() - interval '2 hours'", extra: "'{\"json\":1}', NULL, now() - interval '1 hour' + i * interval '1 millisecond', NULL, 1" },
    dead: { state: "'dead'", runAt: "now() - interval '2 hours'", extra: "NULL, $err$, now() - interval '30 minutes' + i * interval '1 millisecond', now() - interval '30 minutes' + i * interval '1 millisecond', 1" },
    retrying: { state: "'available'", runAt: "now() + interval '1 hour' + i * interval '1 millisecond'", extra: "NULL, $err$, NULL, NULL, 1" },
    running: { state: "'running'", runAt: "now() - interval '2 hours'", extra: "NULL, NULL, NULL, NULL, 1" },
    ready: { state: "'available'", runAt: "now() - interval '10 minutes' + i * interval '1 millisecond'", extra: "NULL, NULL, NULL, NULL, 0" },
    scheduled: { state: "'available'", runAt: "now() + interval '1 hour' + i * interval '1 second'", extra: "NULL, NULL, NULL, NULL, 0" },
  };
  const s = shape[state];
  const error = `'{"name":"ApiTimeoutError","message":"the API did not answer within 30 s","stack":"ApiTimeoutError: the API did not answer\\n    at perform (jobs/report.ts:12:11)"}'::jsonb`;
  // Finished, dead and running jobs carry the token of their batch of 1,000 (see batches()).
  const token = state === "succeeded" || state === "dead" || state === "running" ? `(hashtext('${queue}:${state}') & 65535)::int8 * 100000 + i / 1000 + 1` : state === "retrying" || state === "scheduled" ? "-2" : "NULL";
  return `INSERT INTO ${schema}.jobs (id, job, queue, priority, run_at, enqueued_at, body, lease_token, worker_id, started_at, lease_until, state, result, error, finished_at, dead_at, executions)
    SELECT g.id, g.cls, '${queue}', g.prio, g.run_at, now() - interval '3 hours',
           json_build_object('v', 1, 'job', g.cls, 'id', g.id, 'queue', '${queue}', 'priority', g.prio,
             'args', json_build_object('json', json_build_array(g.i, 'a few words of arguments')), 'executions', 0,
             'enqueuedAt', to_char(now() - interval '3 hours', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'runAt', to_char(g.run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text,
           g.token, CASE WHEN ${s.state} IN ('running', 'succeeded', 'dead') THEN 'bench' END,
           CASE WHEN ${s.state} IN ('running', 'succeeded', 'dead') THEN now() - interval '90 minutes' END,
           CASE WHEN ${s.state} = 'running' THEN now() + interval '6 hours' END, ${s.state},
           ${s.extra.replaceAll("$err$", error)}
    FROM (SELECT i, gen_random_uuid() AS id, (ARRAY['ReportJob', 'MailJob', 'ExportJob', 'AuditJob'])[CASE WHEN i % 100 < 60 THEN 1 WHEN i % 100 < 90 THEN 2 WHEN i % 100 < 99 THEN 3 ELSE 4 END] AS cls,
                 CASE WHEN i % 10 = 0 THEN 5 ELSE 0 END AS prio, ${s.runAt} AS run_at, (${token})::int8 AS token
          FROM generate_series(${from}, ${from + count - 1}) AS i) AS g`;
}

/** Stores the jobs as rows, then the batches that hold the finished, dead and running ones. */
async function build(pool: pg.Pool, schema: string, scale: number): Promise<void> {
  for (const [queue, share] of QUEUES) {
    const n = queueCounts(share, scale);
    for (const [state, count] of Object.entries(n) as [StateName, number][]) {
      if (count > 0) await pool.query(insertJobs(schema, queue, state, 0, count));
    }
    process.stdout.write(countsLine(queue, n));
  }
  await pool.query(`INSERT INTO ${schema}.batches (token, worker_id, reserved_at, lease_until, jobs, ids, open)
    SELECT lease_token, 'bench', min(started_at), CASE WHEN bool_or(state = 'running') THEN now() + interval '6 hours' ELSE now() - interval '1 hour' END,
           count(*), array_agg(id ORDER BY id), bool_or(state = 'running')
    FROM ${schema}.jobs WHERE lease_token > 0 GROUP BY lease_token`);
  await pool.query(`SELECT setval('${schema}.lease_tokens', (SELECT max(token) FROM ${schema}.batches))`);
  await pool.query(`SELECT ${schema}.fold_counts()`);
  await pool.query(`VACUUM ANALYZE ${schema}.jobs`);
  await pool.query(`VACUUM ANALYZE ${schema}.batches`);
}

async function main(): Promise<void> {
  const options = args();
  const schema = options.reuse ?? `errand_bench_dash_${process.pid}`;
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  // Retention far off: the bench reads what it stored.
  const adapter = new PostgresAdapter({ url: DATABASE_URL, schema, maxFinished: 10_000_000, retentionMs: 7 * 24 * HOUR });
  const load = { before: loadavg() };
  let buildMs = 0;
  try {
    await adapter.migrate();
    if (!options.reuse) {
      process.stdout.write(`storing ${Math.round(1_000_000 * options.scale)} jobs in schema ${schema}\n`);
      const start = performance.now();
      await build(pool, schema, options.scale);
      // An hour of throughput: one beat per minute, every queue.
      await hourOfBeats((beat) => adapter.heartbeat(beat), "postgres", Date.now());
      buildMs = performance.now() - start;
      process.stdout.write(`stored in ${(buildMs / 1000).toFixed(1)} s\n`);
    }
    const { timings, walks } = await timeListings(adapter, options.runs, {
      "(before 014) count(*) GROUP BY queue over the jobs": async () => ({ jobs: (await pool.query(NAIVE_COUNTS.replace("%s", schema))).rows.length, next: false }),
    });
    const full = options.scale === 1 && options.runs === 5 && !options.reuse;
    const file = join(BENCH_DIR, "results", full ? "dashboard-postgres-latest.json" : "dashboard-postgres-latest.partial.json");
    const size = (await pool.query<{ size: string }>(`SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) AS size FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = $1`, [schema])).rows[0]!.size;
    writeFileSync(file, `${JSON.stringify({ machine: machineFacts(), load: { ...load, after: loadavg() }, scale: options.scale, runs: options.runs, buildMs, schemaSize: size, timings, walks }, null, 2)}\n`);
    process.stdout.write(`load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}; schema ${size}; wrote ${file}\n`);
  } finally {
    await adapter.close();
    if (options.keep) process.stdout.write(`kept schema ${schema}\n`);
    else await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  }
}

await main();
