-- The dead set, newest first. $1 queue (null: all), $2 limit, $3 offset
SELECT id, queue, body, error, finished_at FROM errand.jobs
WHERE state = 'dead' AND ($1::text IS NULL OR queue = $1)
ORDER BY finished_at DESC, seq DESC
LIMIT $2 OFFSET $3
