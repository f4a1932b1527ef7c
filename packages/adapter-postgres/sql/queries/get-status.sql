-- Status rows by id. $1 ids uuid[]
SELECT id, job, queue, priority, state, executions, progress, result, error, enqueued_at, run_at,
       started_at, finished_at, updated_at, run_at > now() AS future, deferred
FROM errand.jobs WHERE id = ANY($1::uuid[])
