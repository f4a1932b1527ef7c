-- Scheduled jobs (waiting for their run time: lease_token −2, migration 012), soonest first,
-- then by id; frontier and paging as in list-queued.sql.
-- $1 queue (null: all), $2 job class (null: all), $3 cursor run_at (µs since the epoch, null:
-- from the start), $4 cursor id, $5 rows (limit + 1), $6 rows looked at
WITH later AS NOT MATERIALIZED (
  SELECT j.* FROM errand.jobs AS j
  WHERE j.lease_token = -2 AND j.run_at > now() AND ($1::text IS NULL OR j.queue = $1::text)
    AND j.run_at >= coalesce(timestamptz 'epoch' + $3::int8 * interval '1 microsecond', '-infinity')
    AND (j.run_at, j.id) > (coalesce(timestamptz 'epoch' + $3::int8 * interval '1 microsecond', '-infinity'), $4::uuid)
    AND j.state = 'available' AND j.error IS NULL AND NOT j.deferred
  ORDER BY j.run_at, j.id LIMIT $6
),
frontier AS MATERIALIZED (
  SELECT l.run_at AS k1, l.id AS k2 FROM later AS l WHERE $2::text IS NOT NULL ORDER BY 1, 2 OFFSET $6 - 1 LIMIT 1
),
page AS (
  SELECT l.* FROM later AS l
  WHERE ($2::text IS NULL OR l.job = $2::text)
    AND (NOT EXISTS (SELECT 1 FROM frontier) OR (l.run_at, l.id) <= (SELECT f.k1, f.k2 FROM frontier AS f))
  ORDER BY l.run_at, l.id LIMIT $5
)
SELECT x.* FROM (
  SELECT false AS frontier, p.id, p.job, p.queue, p.priority, p.state, p.executions, p.progress, p.result, p.error, p.enqueued_at,
         p.run_at, p.started_at, p.finished_at, p.updated_at, p.body,
         CASE WHEN left(p.body, 1) = '_' THEN (extract(epoch FROM p.run_at) * 1000)::int8 END AS run_ms,
         (extract(epoch FROM p.run_at) * 1000000)::int8::text AS k1, p.id::text AS k2
  FROM page AS p
  UNION ALL
  SELECT true, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         (extract(epoch FROM f.k1) * 1000000)::int8::text, f.k2::text
  FROM frontier AS f
) AS x
ORDER BY x.frontier, x.k1::int8, x.k2::uuid
