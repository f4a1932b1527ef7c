-- Stores a batch of jobs (one row per array element) and nudges idle workers of the queues
-- that got a job due now. NOTIFY is delivered at commit, so a job enqueued inside a
-- caller's transaction wakes nobody until it exists.
-- $1 ids uuid[], $2 jobs text[], $3 queues text[], $4 priorities int[], $5 run_at timestamptz[],
-- $6 bodies text[], $7 executions int[], $8 enqueued_at timestamptz[], $9 channel text
WITH inserted AS (
  INSERT INTO errand.jobs (id, job, queue, priority, run_at, state, body, executions, enqueued_at)
  SELECT id, job, queue, priority, run_at, 'available', body, executions, enqueued_at
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::timestamptz[], $6::text[], $7::int[], $8::timestamptz[])
    AS t(id, job, queue, priority, run_at, body, executions, enqueued_at)
  RETURNING queue, run_at
)
SELECT pg_notify($9, queue) FROM (SELECT DISTINCT queue FROM inserted WHERE run_at <= now()) AS due
