-- Statuses by id with their bodies: recorded rows that have not expired. $1 ids text[]
SELECT s.id, s.job, s.queue, s.priority, s.state, s.executions, s.progress, s.result, s.error, s.enqueued_at, s.run_at,
         s.started_at, s.finished_at, s.updated_at, s.body, s.run_at > now() AS future
FROM errand.statuses AS s
WHERE s.id = ANY($1::text[]) AND s.state IS NOT NULL AND (s.expires_at IS NULL OR s.expires_at > now())
