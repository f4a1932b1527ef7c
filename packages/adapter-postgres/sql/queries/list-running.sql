-- Running jobs by id, frontier and paging as in list-queued.sql. Running jobs are reached
-- from the open batches (migration 010: a batch stays open while any of its jobs may hold a
-- live lease) by id, as lease expiry reaches them: no index on the jobs table says `running`
-- (settle must stay a HOT update). So a page reads every open batch's ids and sorts the
-- running ones: a cost that grows with the jobs reserved within a lease period.
-- $1 queue (null: all), $2 job class (null: all), $3 cursor id, $4 rows (limit + 1), $5 rows looked at
WITH running AS NOT MATERIALIZED (
  SELECT j.* FROM errand.batches AS b CROSS JOIN LATERAL unnest(b.ids) AS x(id)
  JOIN errand.jobs AS j ON j.id = x.id AND j.lease_token = b.token
  WHERE b.open AND j.state = 'running' AND ($1::text IS NULL OR j.queue = $1::text) AND j.id > $3::uuid
  ORDER BY j.id LIMIT $5
),
frontier AS MATERIALIZED (
  SELECT r.id AS k1 FROM running AS r WHERE $2::text IS NOT NULL ORDER BY 1 OFFSET $5 - 1 LIMIT 1
),
page AS (
  SELECT r.* FROM running AS r
  WHERE ($2::text IS NULL OR r.job = $2::text) AND (NOT EXISTS (SELECT 1 FROM frontier) OR r.id <= (SELECT f.k1 FROM frontier AS f))
  ORDER BY r.id LIMIT $4
)
SELECT x.* FROM (
  SELECT false AS frontier, p.id, p.job, p.queue, p.priority, p.state, p.executions, p.progress, p.result, p.error, p.enqueued_at,
         p.run_at, p.started_at, p.finished_at, p.updated_at, p.body,
         CASE WHEN left(p.body, 1) = '_' THEN (extract(epoch FROM p.run_at) * 1000)::int8 END AS run_ms, p.id::text AS k1
  FROM page AS p
  UNION ALL
  SELECT true, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, f.k1::text
  FROM frontier AS f
) AS x
ORDER BY x.frontier, x.k1::uuid
