-- The dead set, newest first (jobs_dead, migration 010). $1 queue (null: all), $2 limit, $3 offset
SELECT id, queue, body, error, dead_at AS finished_at FROM errand.jobs
WHERE dead_at IS NOT NULL AND ($1::text IS NULL OR queue = $1)
ORDER BY dead_at DESC, seq DESC
LIMIT $2 OFFSET $3
