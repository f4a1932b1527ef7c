-- The (state, queue, job) triples that have live rows, among states $1, of queue $2 and class
-- $3 when given (migration 015's statuses_live_listing): a loose index scan, one probe per
-- triple, however many rows each has. $1 states text[], $2 queue text, $3 job text
WITH RECURSIVE t AS (
  (SELECT state, queue, job FROM errand.statuses
   WHERE state = ANY($1::text[]) AND finished_at IS NULL AND ($2::text IS NULL OR queue = $2) AND ($3::text IS NULL OR job = $3)
   ORDER BY state, queue, job LIMIT 1)
  UNION ALL
  SELECT n.state, n.queue, n.job FROM t CROSS JOIN LATERAL (
    SELECT state, queue, job FROM errand.statuses
    WHERE state = ANY($1::text[]) AND finished_at IS NULL AND (state, queue, job) > (t.state, t.queue, t.job)
      AND ($2::text IS NULL OR queue = $2) AND ($3::text IS NULL OR job = $3)
    ORDER BY state, queue, job LIMIT 1) AS n
)
SELECT state, queue, job FROM t
