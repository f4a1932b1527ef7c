-- The (queue, job) pairs that have finished rows of state $1, of queue $2 and class $3 when given
-- (migration 015's statuses_done_listing): a loose index scan, one probe per pair, however
-- many rows each has. One state per call: with `state = ANY(…)` the row comparison is no
-- start key and each probe read ~6,600 index pages (1M statuses); with `state = $1`, 5.
-- $1 state text, $2 queue text, $3 job text
WITH RECURSIVE t AS (
  (SELECT queue, job FROM errand.statuses
   WHERE state = $1 AND finished_at IS NOT NULL AND ($2::text IS NULL OR queue = $2) AND ($3::text IS NULL OR job = $3)
   ORDER BY state, queue, job LIMIT 1)
  UNION ALL
  SELECT n.queue, n.job FROM t CROSS JOIN LATERAL (
    SELECT queue, job FROM errand.statuses
    WHERE state = $1 AND finished_at IS NOT NULL AND (queue, job) > (t.queue, t.job)
      AND ($2::text IS NULL OR queue = $2) AND ($3::text IS NULL OR job = $3)
    ORDER BY state, queue, job LIMIT 1) AS n
)
SELECT $1::text AS state, queue, job FROM t
