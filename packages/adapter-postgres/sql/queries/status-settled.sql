-- Records how deliveries ended, the lease check in the same statement: a stale settlement
-- (another lease is current, or the job is finished and holds none) matches no row and
-- changes nothing, even when a redelivery commits while this statement waits for the row.
-- Each id appears once per call.
--
-- The main statement moves a recorded, unfinished job to its new state and ends its lease: released
-- goes back to queued (scheduled if its run_at is later) uncounted, retry to retrying with
-- the next run_at, queue and priority, and finished states get finished_at and expire
-- after $9 ms (dead ones after $13 ms: SQS keeps a dead-letter message 14 days, and the dead
-- listing must show it as long). `ended` only ends the lease of a finished or lease-only row (a duplicate
-- delivery of a finished job): its status stays as it was.
--
-- An ended lease is '' (no delivery's token), not NULL: writes of one job may land out of
-- order, and a settlement of an earlier delivery landing after this one must stay stale
-- (lease <> its token) instead of finding a live row without a lease and applying (a
-- handed-back job turned finished, a release counted twice). Finished rows are stale anyway.
--
-- Retention rides on it: up to $10 expired rows, none of this batch's, are deleted per call
-- (skipping rows other statements hold), so expired statuses go in small steps as jobs finish.
-- $1 ids text[], $2 leases text[], $3 outcomes text[] (succeeded, failed, dead, retry, released),
-- $4 results text[], $5 errors jsonb[], $6 run_at timestamptz[], $7 queues text[], $8 priorities int[],
-- $9 ttl ms of a finished status, $10 most expired rows deleted, $11 channel text,
-- $12 bodies text[] (retry: the retried payload's text; dead: the dead payload's, NULL keeps the
-- one stored; a succeeded job's body is dropped: migration 015), $13 ttl ms of a dead status
-- The ids whose status changed are NOTIFYed on the store's channel (migration 005).
-- Settled jobs of batches are counted in the same statement (store_batch_settled, migration
-- 020); `sends` holds the pending sends of the callbacks of batches it finished (JSON array).
WITH u AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[], $7::text[], $8::int[], $12::text[])
    AS u(id, lease, outcome, result, error, run_at, queue, priority, body)
),
ended AS (
  UPDATE errand.statuses AS s SET lease = NULL
  FROM u
  WHERE s.id = u.id AND s.lease = u.lease AND (s.state IS NULL OR s.finished_at IS NOT NULL)
),
pruned AS (
  DELETE FROM errand.statuses
  WHERE id IN (SELECT id FROM errand.statuses
               WHERE expires_at <= now() AND NOT (id = ANY($1::text[]))
               ORDER BY expires_at LIMIT $10 FOR UPDATE SKIP LOCKED)
    AND expires_at <= now()
),
settled AS (
UPDATE errand.statuses AS s
SET state = CASE u.outcome
              WHEN 'released' THEN CASE WHEN s.run_at > now() THEN 'scheduled' ELSE 'queued' END
              WHEN 'retry' THEN 'retrying'
              ELSE u.outcome END,
    executions = CASE WHEN u.outcome = 'released' THEN greatest(0, s.executions - 1) ELSE s.executions END,
    result = coalesce(u.result, s.result),
    error = coalesce(u.error, s.error),
    run_at = coalesce(u.run_at, s.run_at),
    queue = coalesce(u.queue, s.queue),
    priority = coalesce(u.priority, s.priority),
    body = CASE u.outcome WHEN 'succeeded' THEN NULL WHEN 'released' THEN s.body WHEN 'failed' THEN s.body ELSE coalesce(u.body, s.body) END,
    finished_at = CASE WHEN u.outcome IN ('succeeded', 'failed', 'dead') THEN now() END,
    expires_at = CASE WHEN u.outcome = 'dead' THEN now() + $13 * interval '1 millisecond'
                      WHEN u.outcome IN ('succeeded', 'failed') THEN now() + $9 * interval '1 millisecond' END,
    lease = '',
    updated_at = now()
FROM u
WHERE s.id = u.id AND s.state IS NOT NULL AND s.finished_at IS NULL AND (s.lease = u.lease OR s.lease IS NULL)
RETURNING s.id, s.batch_id, u.outcome
)
SELECT errand.notify_ids($11, array_agg(id)) AS reported,
       errand.store_batch_settled(array_agg(id) FILTER (WHERE batch_id IS NOT NULL), array_agg(batch_id) FILTER (WHERE batch_id IS NOT NULL),
                                  array_agg(outcome) FILTER (WHERE batch_id IS NOT NULL), $9::bigint, $13::bigint, $11::text) AS sends
FROM settled
