-- Jobs by id, in any state, with their bodies (get-status.sql's columns). $1 ids uuid[]
SELECT id, job, queue, priority, state, executions, progress, result, error, enqueued_at, run_at,
       started_at, finished_at, updated_at, run_at > now() AS future, deferred, body,
       CASE WHEN left(body, 1) = '_' THEN (extract(epoch FROM run_at) * 1000)::int8 END AS run_ms
FROM errand.jobs WHERE id = ANY($1::uuid[])
