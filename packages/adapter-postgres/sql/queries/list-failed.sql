-- Failed jobs (discarded, cancelled), newest finished first, from `failed_jobs` (migration
-- 014, kept by the jobs table's triggers); frontier and paging as in list-queued.sql. The
-- key is (finished_at, id), descending.
-- $1 queue (null: all), $2 job class (null: all), $3 cursor finished_at (µs since the epoch,
-- null: from the start), $4 cursor id, $5 rows (limit + 1), $6 rows looked at
WITH failed AS NOT MATERIALIZED (
  SELECT j.*, f.finished_at AS k_at FROM errand.failed_jobs AS f
  CROSS JOIN LATERAL (SELECT j.* FROM errand.jobs AS j WHERE j.id = f.id AND j.state = 'failed' LIMIT 1) AS j
  WHERE ($1::text IS NULL OR f.queue = $1::text)
    AND (f.finished_at, f.id) < (coalesce(timestamptz 'epoch' + $3::int8 * interval '1 microsecond', 'infinity'), $4::uuid)
  ORDER BY f.finished_at DESC, f.id DESC LIMIT $6
),
frontier AS MATERIALIZED (
  SELECT d.k_at AS k1, d.id AS k2 FROM failed AS d WHERE $2::text IS NOT NULL ORDER BY 1 DESC, 2 DESC OFFSET $6 - 1 LIMIT 1
),
page AS (
  SELECT d.* FROM failed AS d
  WHERE ($2::text IS NULL OR d.job = $2::text)
    AND (NOT EXISTS (SELECT 1 FROM frontier) OR (d.k_at, d.id) >= (SELECT f.k1, f.k2 FROM frontier AS f))
  ORDER BY d.k_at DESC, d.id DESC LIMIT $5
)
SELECT x.* FROM (
  SELECT false AS frontier, p.id, p.job, p.queue, p.priority, p.state, p.executions, p.progress, p.result, p.error, p.enqueued_at,
         p.run_at, p.started_at, p.finished_at, p.updated_at, p.body,
         CASE WHEN left(p.body, 1) = '_' THEN (extract(epoch FROM p.run_at) * 1000)::int8 END AS run_ms,
         (extract(epoch FROM p.k_at) * 1000000)::int8::text AS k1, p.id::text AS k2
  FROM page AS p
  UNION ALL
  SELECT true, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         (extract(epoch FROM f.k1) * 1000000)::int8::text, f.k2::text
  FROM frontier AS f
) AS x
ORDER BY x.frontier, x.k1::int8 DESC, x.k2::uuid DESC
