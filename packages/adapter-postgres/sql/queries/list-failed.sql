-- Failed jobs (discarded, cancelled), newest finished first, from `failed_jobs` (migration
-- 014, kept by the jobs table's triggers); the key is (finished_at, id), descending.
-- Every source looks at $6 rows at most after the cursor and answers the rows that match
-- the job-class filter ($2, which no index serves; all rows without one), and its last row
-- looked at when it looked at $6 (`frontier`). The adapter walks the rows in order and
-- stops at the first frontier: nothing past it was looked at in every source, so the next page
-- starts there. A page with a rare class may thus be short, or empty, and have a next one.
-- A match costs nothing more than a row looked at: one scan per source, no second pass.
-- $1 queue (null: all), $2 job class (null: all), $3 cursor finished_at (µs since the epoch,
-- null: from the start), $4 cursor id, $5 rows (limit + 1), $6 rows looked at
SELECT s.id, s.job, s.queue, s.priority, s.state, s.executions, s.progress, s.result, s.error, s.enqueued_at,
       s.run_at, s.started_at, s.finished_at, s.updated_at, s.body,
       CASE WHEN left(s.body, 1) = '_' THEN (extract(epoch FROM s.run_at) * 1000)::int8 END AS run_ms, s.hit, s.ex = $6 AS frontier,
       (extract(epoch FROM s.k_at) * 1000000)::int8::text AS k1, s.id::text AS k2
FROM (
  (SELECT x.* FROM (
    SELECT j.*, f.finished_at AS k_at, row_number() OVER (ORDER BY f.finished_at DESC, f.id DESC) AS ex, ($2::text IS NULL OR j.job = $2::text) AS hit
    FROM errand.failed_jobs AS f
    CROSS JOIN LATERAL (SELECT j.* FROM errand.jobs AS j WHERE j.id = f.id AND j.state = 'failed' LIMIT 1) AS j
    WHERE ($1::text IS NULL OR f.queue = $1::text) AND (f.finished_at, f.id) < (coalesce(timestamptz 'epoch' + $3::int8 * interval '1 microsecond', 'infinity'), $4::uuid)
    ORDER BY f.finished_at DESC, f.id DESC LIMIT $6
  ) AS x WHERE x.hit OR x.ex = $6 ORDER BY x.k_at DESC, x.id DESC LIMIT $5 + 1)
) AS s
ORDER BY s.k_at DESC, s.id DESC LIMIT $5 + 1
