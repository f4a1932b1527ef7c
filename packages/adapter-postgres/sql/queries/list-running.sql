-- Running jobs by id. They are reached from the open batches (migration 010: a batch stays
-- open while any of its jobs may hold a live lease) by id, as lease expiry reaches them: no
-- index on the jobs table says `running` (settle must stay a HOT update). So a page reads
-- every open batch's ids and sorts the running ones: a cost that grows with the jobs
-- reserved within a lease period (39 ms with 10,000 running, bench/dashboard).
-- Every source looks at $5 rows at most after the cursor and answers the rows that match
-- the job-class filter ($2, which no index serves; all rows without one), and its last row
-- looked at when it looked at $5 (`frontier`). The adapter walks the rows in order and
-- stops at the first frontier: nothing past it was looked at in every source, so the next page
-- starts there. A page with a rare class may thus be short, or empty, and have a next one.
-- A match costs nothing more than a row looked at: one scan per source, no second pass.
-- $1 queue (null: all), $2 job class (null: all), $3 cursor id, $4 rows (limit + 1), $5 rows looked at
SELECT s.id, s.job, s.queue, s.priority, s.state, s.executions, s.progress, s.result, s.error, s.enqueued_at,
       s.run_at, s.started_at, s.finished_at, s.updated_at, s.body,
       CASE WHEN left(s.body, 1) = '_' THEN (extract(epoch FROM s.run_at) * 1000)::int8 END AS run_ms, s.hit, s.ex = $5 AS frontier,
       s.id::text AS k1
FROM (
  (SELECT x.* FROM (
    SELECT j.*, row_number() OVER (ORDER BY j.id) AS ex, ($2::text IS NULL OR j.job = $2::text) AS hit
    FROM errand.batches AS b CROSS JOIN LATERAL unnest(b.ids) AS u(id)
    JOIN errand.jobs AS j ON j.id = u.id AND j.lease_token = b.token
    WHERE b.open AND j.state = 'running' AND ($1::text IS NULL OR j.queue = $1::text) AND j.id > $3::uuid
    ORDER BY j.id LIMIT $5
  ) AS x WHERE x.hit OR x.ex = $5 ORDER BY x.id LIMIT $4 + 1)
) AS s
ORDER BY s.id LIMIT $4 + 1
