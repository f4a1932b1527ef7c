-- Records how a batch of leased jobs ended, in one statement. A row whose lease token no
-- longer matches (its lease expired and another worker took it) is left alone.
-- A retry stores the updated body, queue, priority and run_at; a release puts the job back
-- unchanged (and uncounts the start); finished states get finished_at, dead ones dead_at.
-- Back to ready drops the lease token; finished keeps it: a HOT update (migration 010).
-- $1 ids uuid[], $2 tokens bigint[], $3 states text[], $4 bodies text[] (null: keep),
-- $5 run_at timestamptz[] (null: keep), $6 queues text[], $7 priorities int[],
-- $8 results text[], $9 errors jsonb[], $10 released bool[], $11 status channel text (null: none),
-- $12 wake channel text
-- A settled holder of a concurrency slot frees it (see settle-succeeded.sql).
WITH settled AS (
UPDATE errand.jobs AS jobs
SET state = u.state,
    body = coalesce(u.body, jobs.body),
    run_at = coalesce(u.run_at, jobs.run_at),
    queue = coalesce(u.queue, jobs.queue),
    priority = coalesce(u.priority, jobs.priority),
    executions = CASE WHEN u.released THEN jobs.executions - 1 ELSE jobs.executions END,
    result = u.result,
    error = coalesce(u.error, jobs.error),
    finished_at = CASE WHEN u.state IN ('succeeded', 'failed', 'dead') THEN now() END,
    dead_at = CASE WHEN u.state = 'dead' THEN now() END,
    lease_token = CASE WHEN u.state = 'available' THEN NULL ELSE jobs.lease_token END,
    lease_until = CASE WHEN u.state = 'available' THEN NULL ELSE jobs.lease_until END,
    updated_at = now()
FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::int[], $8::text[], $9::jsonb[], $10::bool[])
  AS u(id, token, state, body, run_at, queue, priority, result, error, released)
WHERE jobs.id = u.id AND jobs.lease_token = u.token AND jobs.state = 'running'
RETURNING jobs.id, jobs.concurrency_key, jobs.batch_id,
  CASE u.state WHEN 'succeeded' THEN 's' WHEN 'failed' THEN 'd' WHEN 'dead' THEN 'x' ELSE 'r' END::"char" AS kind, u.released
),
freed AS (
  DELETE FROM errand.slots AS s USING settled WHERE s.key = settled.concurrency_key AND s.job_id = settled.id
)
-- A job of a batch is counted into it (batch_settled, migration 019): 's' succeeded, 'd'
-- discarded, 'x' dead, 'r' a retry (a failed run); a release counts nothing. (Comments here,
-- not above: pg_stat_activity shows a statement's first 1,024 bytes.)
SELECT errand.notify_uuids($11, array_agg(id)) AS reported,
       errand.flow_release(array_agg(concurrency_key) FILTER (WHERE concurrency_key IS NOT NULL), $12, coalesce($11, '')) AS unparked,
       errand.batch_settled(array_agg(batch_id) FILTER (WHERE batch_id IS NOT NULL AND NOT released),
                            array_agg(kind) FILTER (WHERE batch_id IS NOT NULL AND NOT released), $12, coalesce($11, '')) AS batched
FROM settled
