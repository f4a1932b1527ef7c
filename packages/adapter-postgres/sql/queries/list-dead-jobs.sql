-- Dead jobs, newest first (jobs_dead, migration 010); the key is (dead_at, seq), descending.
-- Every source looks at $6 rows at most after the cursor and answers the rows that match
-- the job-class filter ($2, which no index serves; all rows without one), and its last row
-- looked at when it looked at $6 (`frontier`). The adapter walks the rows in order and
-- stops at the first frontier: nothing past it was looked at in every source, so the next page
-- starts there. A page with a rare class may thus be short, or empty, and have a next one.
-- A match costs nothing more than a row looked at: one scan per source, no second pass.
-- $1 queue (null: all), $2 job class (null: all), $3 cursor dead_at (µs since the epoch, null:
-- from the start), $4 cursor seq, $5 rows (limit + 1), $6 rows looked at
SELECT s.id, s.job, s.queue, s.priority, s.state, s.executions, s.progress, s.result, s.error, s.enqueued_at,
       s.run_at, s.started_at, s.finished_at, s.updated_at, s.body,
       CASE WHEN left(s.body, 1) = '_' THEN (extract(epoch FROM s.run_at) * 1000)::int8 END AS run_ms, s.hit, s.ex = $6 AS frontier,
       (extract(epoch FROM s.dead_at) * 1000000)::int8::text AS k1, s.seq::text AS k2
FROM (
  (SELECT x.* FROM (
    SELECT j.*, row_number() OVER (ORDER BY j.dead_at DESC, j.seq DESC) AS ex, ($2::text IS NULL OR j.job = $2::text) AS hit
    FROM errand.jobs AS j
    WHERE j.dead_at IS NOT NULL AND ($1::text IS NULL OR j.queue = $1::text)
      AND (j.dead_at, j.seq) < (coalesce(timestamptz 'epoch' + $3::int8 * interval '1 microsecond', 'infinity'), $4::int8) AND j.state = 'dead'
    ORDER BY j.dead_at DESC, j.seq DESC LIMIT $6
  ) AS x WHERE x.hit OR x.ex = $6 ORDER BY x.dead_at DESC, x.seq DESC LIMIT $5 + 1)
) AS s
ORDER BY s.dead_at DESC, s.seq DESC LIMIT $5 + 1
