-- Dead jobs, newest first (jobs_dead, migration 010), frontier and paging as in
-- list-queued.sql. The key is (dead_at, seq), descending.
-- $1 queue (null: all), $2 job class (null: all), $3 cursor dead_at (µs since the epoch, null:
-- from the start), $4 cursor seq, $5 rows (limit + 1), $6 rows looked at
WITH dead AS NOT MATERIALIZED (
  SELECT j.* FROM errand.jobs AS j
  WHERE j.dead_at IS NOT NULL AND ($1::text IS NULL OR j.queue = $1::text)
    AND (j.dead_at, j.seq) < (coalesce(timestamptz 'epoch' + $3::int8 * interval '1 microsecond', 'infinity'), $4::int8)
    AND j.state = 'dead'
  ORDER BY j.dead_at DESC, j.seq DESC LIMIT $6
),
frontier AS MATERIALIZED (
  SELECT d.dead_at AS k1, d.seq AS k2 FROM dead AS d WHERE $2::text IS NOT NULL ORDER BY 1 DESC, 2 DESC OFFSET $6 - 1 LIMIT 1
),
page AS (
  SELECT d.* FROM dead AS d
  WHERE ($2::text IS NULL OR d.job = $2::text)
    AND (NOT EXISTS (SELECT 1 FROM frontier) OR (d.dead_at, d.seq) >= (SELECT f.k1, f.k2 FROM frontier AS f))
  ORDER BY d.dead_at DESC, d.seq DESC LIMIT $5
)
SELECT x.* FROM (
  SELECT false AS frontier, p.id, p.job, p.queue, p.priority, p.state, p.executions, p.progress, p.result, p.error, p.enqueued_at,
         p.run_at, p.started_at, p.finished_at, p.updated_at, p.body,
         CASE WHEN left(p.body, 1) = '_' THEN (extract(epoch FROM p.run_at) * 1000)::int8 END AS run_ms,
         (extract(epoch FROM p.dead_at) * 1000000)::int8::text AS k1, p.seq::text AS k2
  FROM page AS p
  UNION ALL
  SELECT true, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         (extract(epoch FROM f.k1) * 1000000)::int8::text, f.k2::text
  FROM frontier AS f
) AS x
ORDER BY x.frontier, x.k1::int8 DESC, x.k2::int8 DESC
