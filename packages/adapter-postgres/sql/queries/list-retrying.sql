-- Retrying jobs (failed, waiting for their next run), soonest first, then by id. Two
-- sources: retries still ahead (lease_token −2, migration 012) and retries already due
-- (ready, lease_token NULL). The ready index is ordered by priority, not run time, so the due
-- source reads every ready row of the queue (or of all) and sorts the retries among them: a
-- cost that grows with the ready backlog (40 ms with 50,000 ready, bench/dashboard), where
-- due retries rarely wait long.
-- Every source looks at $6 rows at most after the cursor and answers the rows that match
-- the job-class filter ($2, which no index serves; all rows without one), and its last row
-- looked at when it looked at $6 (`frontier`). The adapter walks the rows in order and
-- stops at the first frontier: nothing past it was looked at in every source, so the next page
-- starts there. A page with a rare class may thus be short, or empty, and have a next one.
-- A match costs nothing more than a row looked at: one scan per source, no second pass.
-- $1 queue (null: all), $2 job class (null: all), $3 cursor run_at (µs since the epoch, null:
-- from the start), $4 cursor id, $5 rows (limit + 1), $6 rows a source looks at
SELECT s.id, s.job, s.queue, s.priority, s.state, s.executions, s.progress, s.result, s.error, s.enqueued_at,
       s.run_at, s.started_at, s.finished_at, s.updated_at, s.body,
       CASE WHEN left(s.body, 1) = '_' THEN (extract(epoch FROM s.run_at) * 1000)::int8 END AS run_ms, s.hit, s.ex = $6 AS frontier,
       (extract(epoch FROM s.run_at) * 1000000)::int8::text AS k1, s.id::text AS k2
FROM (
  (SELECT x.* FROM (
    SELECT j.*, row_number() OVER (ORDER BY j.run_at, j.id) AS ex, ($2::text IS NULL OR j.job = $2::text) AS hit
    FROM errand.jobs AS j
    WHERE j.lease_token = -2 AND ($1::text IS NULL OR j.queue = $1::text)
      AND j.run_at >= coalesce(timestamptz 'epoch' + $3::int8 * interval '1 microsecond', '-infinity') AND (j.run_at, j.id) > (coalesce(timestamptz 'epoch' + $3::int8 * interval '1 microsecond', '-infinity'), $4::uuid)
      AND j.state = 'available' AND j.error IS NOT NULL AND NOT j.deferred
    ORDER BY j.run_at, j.id LIMIT $6
  ) AS x WHERE x.hit OR x.ex = $6 ORDER BY x.run_at, x.id LIMIT $5 + 1)
  UNION ALL
  (SELECT x.* FROM (
    SELECT j.*, row_number() OVER (ORDER BY j.run_at, j.id) AS ex, ($2::text IS NULL OR j.job = $2::text) AS hit
    FROM errand.jobs AS j
    WHERE j.lease_token IS NULL AND ($1::text IS NULL OR j.queue = $1::text) AND (j.run_at, j.id) > (coalesce(timestamptz 'epoch' + $3::int8 * interval '1 microsecond', '-infinity'), $4::uuid)
      AND j.state = 'available' AND j.error IS NOT NULL AND NOT j.deferred
    ORDER BY j.run_at, j.id LIMIT $6
  ) AS x WHERE x.hit OR x.ex = $6 ORDER BY x.run_at, x.id LIMIT $5 + 1)
) AS s
ORDER BY s.run_at, s.id LIMIT $5 + 2
