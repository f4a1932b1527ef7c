-- Leases up to $2 ready jobs from the queues in $1, tried in that order; within a queue,
-- lowest priority first, then oldest. SKIP LOCKED lets concurrent workers take different rows.
-- $1 queues text[], $2 max int, $3 lease ms, $4 worker id
WITH picked AS (
  SELECT j.id, q.ord
  FROM unnest($1::text[]) WITH ORDINALITY AS q(name, ord)
  CROSS JOIN LATERAL (
    SELECT id FROM errand.jobs
    WHERE state = 'available' AND queue = q.name AND run_at <= now()
    ORDER BY priority, run_at, seq
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  ) AS j
  ORDER BY q.ord
  LIMIT $2
)
UPDATE errand.jobs AS jobs
SET state = 'running', lease_token = nextval('errand.lease_tokens'),
    lease_until = now() + $3 * interval '1 millisecond', worker_id = $4,
    executions = jobs.executions + 1, started_at = now(), updated_at = now()
FROM picked
WHERE jobs.id = picked.id
RETURNING jobs.id, jobs.body, jobs.lease_token, jobs.executions, picked.ord, jobs.priority, jobs.run_at, jobs.seq
