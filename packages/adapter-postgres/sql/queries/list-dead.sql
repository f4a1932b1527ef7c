-- The dead set, newest first (jobs_dead, migration 010); a narrow body (src/body.ts) with
-- what the adapter needs to put it back. $1 queue (null: all), $2 limit, $3 offset
SELECT id, queue, body, error, dead_at AS finished_at, priority,
       CASE WHEN left(body, 1) = '_' THEN (extract(epoch FROM run_at) * 1000)::int8 END AS run_ms FROM errand.jobs
WHERE dead_at IS NOT NULL AND ($1::text IS NULL OR queue = $1)
ORDER BY dead_at DESC, seq DESC
LIMIT $2 OFFSET $3
