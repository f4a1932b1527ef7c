-- Statuses by id: recorded rows that have not expired. $1 ids text[]
SELECT id, job, queue, priority, state, executions, progress, result, error, enqueued_at, run_at,
       started_at, finished_at, updated_at, run_at > now() AS future
FROM errand.statuses
WHERE id = ANY($1::text[]) AND state IS NOT NULL AND (expires_at IS NULL OR expires_at > now())
