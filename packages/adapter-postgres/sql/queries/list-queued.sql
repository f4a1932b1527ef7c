-- Queued jobs, by queue name, then the order a reserve takes them (priority, run_at, seq),
-- from where they wait (migration 014): the ready index, `jobs_held` (parked by a
-- concurrency limit, deferred by a rate limit) and the due part of `jobs_scheduled` (due,
-- not promoted yet). Each source looks at $8 rows at most after the cursor; with a job-class
-- filter ($2), which no index serves, the page stops at the frontier: the first key past
-- which some source was not looked at. The frontier comes back as a last row with
-- `frontier` true (the next page starts after it), so a page may be short, or empty, and
-- still have a next one.
-- $1 queue (null: all), $2 job class (null: all), $3 cursor queue, $4 cursor priority,
-- $5 cursor run_at (µs since the epoch, null: from the start), $6 cursor seq, $7 rows (limit + 1),
-- $8 rows a source looks at
WITH ready AS NOT MATERIALIZED (
  SELECT j.* FROM errand.jobs AS j
  WHERE j.lease_token IS NULL AND ($1::text IS NULL OR j.queue = $1::text)
    AND (j.queue, j.priority, j.run_at, j.seq) > ($3::text, $4::int, coalesce(timestamptz 'epoch' + $5::int8 * interval '1 microsecond', '-infinity'), $6::int8)
    AND j.state = 'available' AND j.error IS NULL AND NOT j.deferred
  ORDER BY j.queue, j.priority, j.run_at, j.seq LIMIT $8
),
held AS NOT MATERIALIZED (
  SELECT j.* FROM errand.jobs AS j
  WHERE (j.parked_seq IS NOT NULL OR j.deferred) AND ($1::text IS NULL OR j.queue = $1::text)
    AND (j.queue, j.priority, j.run_at, j.seq) > ($3::text, $4::int, coalesce(timestamptz 'epoch' + $5::int8 * interval '1 microsecond', '-infinity'), $6::int8)
    AND j.state IN ('available', 'parked')
  ORDER BY j.queue, j.priority, j.run_at, j.seq LIMIT $8
),
due AS NOT MATERIALIZED (
  SELECT j.* FROM errand.jobs AS j
  WHERE j.lease_token = -2 AND j.run_at <= now() AND ($1::text IS NULL OR j.queue = $1::text)
    AND (j.queue, j.priority, j.run_at, j.seq) > ($3::text, $4::int, coalesce(timestamptz 'epoch' + $5::int8 * interval '1 microsecond', '-infinity'), $6::int8)
    AND j.state = 'available' AND j.error IS NULL AND NOT j.deferred
  ORDER BY j.queue, j.priority, j.run_at, j.seq LIMIT $8
),
frontier AS MATERIALIZED (
  SELECT f.queue, f.priority, f.run_at, f.seq FROM (
    (SELECT r.queue, r.priority, r.run_at, r.seq FROM ready AS r WHERE $2::text IS NOT NULL ORDER BY 1, 2, 3, 4 OFFSET $8 - 1 LIMIT 1)
    UNION ALL
    (SELECT h.queue, h.priority, h.run_at, h.seq FROM held AS h WHERE $2::text IS NOT NULL ORDER BY 1, 2, 3, 4 OFFSET $8 - 1 LIMIT 1)
    UNION ALL
    (SELECT d.queue, d.priority, d.run_at, d.seq FROM due AS d WHERE $2::text IS NOT NULL ORDER BY 1, 2, 3, 4 OFFSET $8 - 1 LIMIT 1)
  ) AS f
  ORDER BY 1, 2, 3, 4 LIMIT 1
),
page AS (
  SELECT p.* FROM (
    (SELECT r.* FROM ready AS r WHERE $2::text IS NULL OR r.job = $2::text ORDER BY r.queue, r.priority, r.run_at, r.seq LIMIT $7)
    UNION ALL
    (SELECT h.* FROM held AS h WHERE $2::text IS NULL OR h.job = $2::text ORDER BY h.queue, h.priority, h.run_at, h.seq LIMIT $7)
    UNION ALL
    (SELECT d.* FROM due AS d WHERE $2::text IS NULL OR d.job = $2::text ORDER BY d.queue, d.priority, d.run_at, d.seq LIMIT $7)
  ) AS p
  WHERE NOT EXISTS (SELECT 1 FROM frontier)
     OR (p.queue, p.priority, p.run_at, p.seq) <= (SELECT f.queue, f.priority, f.run_at, f.seq FROM frontier AS f)
  ORDER BY p.queue, p.priority, p.run_at, p.seq LIMIT $7
)
SELECT x.* FROM (
  SELECT false AS frontier, p.id, p.job, p.queue, p.priority, p.state, p.executions, p.progress, p.result, p.error, p.enqueued_at,
         p.run_at, p.started_at, p.finished_at, p.updated_at, p.body,
         CASE WHEN left(p.body, 1) = '_' THEN (extract(epoch FROM p.run_at) * 1000)::int8 END AS run_ms,
         p.queue AS k1, p.priority::text AS k2, (extract(epoch FROM p.run_at) * 1000000)::int8::text AS k3, p.seq::text AS k4
  FROM page AS p
  UNION ALL
  SELECT true, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         f.queue, f.priority::text, (extract(epoch FROM f.run_at) * 1000000)::int8::text, f.seq::text
  FROM frontier AS f
) AS x
ORDER BY x.frontier, x.k1, x.k2::int, x.k3::int8, x.k4::int8
