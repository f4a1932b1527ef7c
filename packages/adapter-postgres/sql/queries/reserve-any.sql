-- Leases up to $1 ready jobs from every queue: lowest priority first, then oldest.
-- $1 max int, $2 lease ms, $3 worker id
WITH picked AS (
  SELECT id FROM errand.jobs
  WHERE state = 'available' AND run_at <= now()
  ORDER BY priority, run_at, seq
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)
UPDATE errand.jobs AS jobs
SET state = 'running', lease_token = nextval('errand.lease_tokens'),
    lease_until = now() + $2 * interval '1 millisecond', worker_id = $3,
    executions = jobs.executions + 1, started_at = now(), updated_at = now()
FROM picked
WHERE jobs.id = picked.id
RETURNING jobs.id, jobs.body, jobs.lease_token, jobs.executions, 1 AS ord, jobs.priority, jobs.run_at, jobs.seq
