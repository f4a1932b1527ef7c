-- enqueue.sql for the common batch whose jobs share class, queue, priority and executions
-- (a bulk of one job class, or a single job): those go as scalars, not arrays. Parsing the
-- extra arrays cost a third of the insert (5,000 rows: 49k rows/s with eight arrays, 75k
-- with four).
-- $1 ids uuid[], $2 job text, $3 queue text, $4 priority int, $5 executions int,
-- $6 bodies text[], $7 run_at timestamptz[], $8 enqueued_at timestamptz[], $9 channel text
WITH inserted AS (
  INSERT INTO errand.jobs (id, job, queue, priority, run_at, state, body, executions, enqueued_at)
  SELECT id, $2, $3, $4, run_at, 'available', body, $5, enqueued_at
  FROM unnest($1::uuid[], $6::text[], $7::timestamptz[], $8::timestamptz[]) AS t(id, body, run_at, enqueued_at)
  RETURNING run_at
)
SELECT pg_notify($9, $3) WHERE EXISTS (SELECT 1 FROM inserted WHERE run_at <= now())
