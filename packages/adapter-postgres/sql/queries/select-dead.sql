-- Locks dead jobs chosen by id (or all, of one queue or every queue) for retry or purge.
-- $1 ids uuid[] (null: all), $2 queue (null: all)
SELECT id, body, queue, priority, CASE WHEN left(body, 1) = '_' THEN (extract(epoch FROM run_at) * 1000)::int8 END AS run_ms FROM errand.jobs
WHERE dead_at IS NOT NULL AND state = 'dead' AND ($1::uuid[] IS NULL OR id = ANY($1)) AND ($2::text IS NULL OR queue = $2)
FOR UPDATE
