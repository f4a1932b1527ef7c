-- Puts dead jobs back with fresh attempts, due now: ready again (no lease token, no dead_at).
-- Returns how many (`moved`); their ids are NOTIFYed on the status channel (migration 005).
-- A revived job of a batch is pending in it again (batch_revived, migration 019).
-- $1 ids uuid[], $2 bodies text[], $3 queues text[], $4 priorities int[], $5 status channel text (null: none)
WITH revived AS (
UPDATE errand.jobs AS jobs
SET state = 'available', body = r.body, queue = r.queue, priority = r.priority, run_at = now(),
    executions = 0, error = NULL, result = NULL, progress = NULL, finished_at = NULL, started_at = NULL, updated_at = now(),
    dead_at = NULL, lease_token = NULL, lease_until = NULL
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[]) AS r(id, body, queue, priority)
WHERE jobs.id = r.id AND jobs.state = 'dead'
RETURNING jobs.id, jobs.batch_id
)
SELECT count(*) AS moved, errand.notify_uuids($5, array_agg(id)) AS reported,
       errand.batch_revived(array_agg(batch_id) FILTER (WHERE batch_id IS NOT NULL)) AS batched
FROM revived
