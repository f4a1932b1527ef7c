-- Queued jobs, by queue name, then the order a reserve takes them (priority, run_at, seq),
-- from where they wait (migration 014): the ready index, `jobs_held` (parked by a
-- concurrency limit, deferred by a rate limit) and the due part of `jobs_scheduled` (due,
-- not promoted yet).
-- Every source looks at $8 rows at most after the cursor and answers the rows that match
-- the job-class filter ($2, which no index serves; all rows without one), and its last row
-- looked at when it looked at $8 (`frontier`). The adapter walks the rows in order and
-- stops at the first frontier: nothing past it was looked at in every source, so the next page
-- starts there. A page with a rare class may thus be short, or empty, and have a next one.
-- A match costs nothing more than a row looked at: one scan per source, no second pass.
-- $1 queue (null: all), $2 job class (null: all), $3 cursor queue, $4 cursor priority,
-- $5 cursor run_at (µs since the epoch, null: from the start), $6 cursor seq, $7 rows (limit + 1),
-- $8 rows a source looks at
SELECT s.id, s.job, s.queue, s.priority, s.state, s.executions, s.progress, s.result, s.error, s.enqueued_at,
       s.run_at, s.started_at, s.finished_at, s.updated_at, s.body,
       CASE WHEN left(s.body, 1) = '_' THEN (extract(epoch FROM s.run_at) * 1000)::int8 END AS run_ms, s.hit, s.ex = $8 AS frontier,
       s.queue AS k1, s.priority::text AS k2, (extract(epoch FROM s.run_at) * 1000000)::int8::text AS k3, s.seq::text AS k4
FROM (
  (SELECT x.* FROM (
    SELECT j.*, row_number() OVER (ORDER BY j.queue, j.priority, j.run_at, j.seq) AS ex, ($2::text IS NULL OR j.job = $2::text) AS hit
    FROM errand.jobs AS j
    WHERE j.lease_token IS NULL AND ($1::text IS NULL OR j.queue = $1::text) AND (j.queue, j.priority, j.run_at, j.seq) > ($3::text, $4::int, coalesce(timestamptz 'epoch' + $5::int8 * interval '1 microsecond', '-infinity'), $6::int8)
      AND j.state = 'available' AND j.error IS NULL AND NOT j.deferred
    ORDER BY j.queue, j.priority, j.run_at, j.seq LIMIT $8
  ) AS x WHERE x.hit OR x.ex = $8 ORDER BY x.queue, x.priority, x.run_at, x.seq LIMIT $7 + 1)
  UNION ALL
  (SELECT x.* FROM (
    SELECT j.*, row_number() OVER (ORDER BY j.queue, j.priority, j.run_at, j.seq) AS ex, ($2::text IS NULL OR j.job = $2::text) AS hit
    FROM errand.jobs AS j
    WHERE (j.parked_seq IS NOT NULL OR j.deferred) AND ($1::text IS NULL OR j.queue = $1::text) AND (j.queue, j.priority, j.run_at, j.seq) > ($3::text, $4::int, coalesce(timestamptz 'epoch' + $5::int8 * interval '1 microsecond', '-infinity'), $6::int8)
      AND j.state IN ('available', 'parked')
    ORDER BY j.queue, j.priority, j.run_at, j.seq LIMIT $8
  ) AS x WHERE x.hit OR x.ex = $8 ORDER BY x.queue, x.priority, x.run_at, x.seq LIMIT $7 + 1)
  UNION ALL
  (SELECT x.* FROM (
    SELECT j.*, row_number() OVER (ORDER BY j.queue, j.priority, j.run_at, j.seq) AS ex, ($2::text IS NULL OR j.job = $2::text) AS hit
    FROM errand.jobs AS j
    WHERE j.lease_token = -2 AND j.run_at <= now() AND ($1::text IS NULL OR j.queue = $1::text) AND (j.queue, j.priority, j.run_at, j.seq) > ($3::text, $4::int, coalesce(timestamptz 'epoch' + $5::int8 * interval '1 microsecond', '-infinity'), $6::int8)
      AND j.state = 'available' AND j.error IS NULL AND NOT j.deferred
    ORDER BY j.queue, j.priority, j.run_at, j.seq LIMIT $8
  ) AS x WHERE x.hit OR x.ex = $8 ORDER BY x.queue, x.priority, x.run_at, x.seq LIMIT $7 + 1)
) AS s
ORDER BY s.queue, s.priority, s.run_at, s.seq LIMIT $7 + 3
