-- Records stored jobs: queued, or scheduled while their run_at is later. A job enqueued
-- again (a dead job moved back) starts afresh: every field is replaced, its lease and
-- expiry dropped. Each id appears once per call. The ids are NOTIFYed on the store's
-- channel (migration 005).
-- $1 ids text[], $2 job classes text[], $3 queues text[], $4 priorities int[],
-- $5 executions int[], $6 enqueued_at timestamptz[], $7 run_at timestamptz[], $8 channel text,
-- $9 bodies text[] (the payload text the message carries: kept while the job lives, migration 015),
-- $10 batch ids text[] (NULL: none; a callback is not counted): each job of a batch is counted
-- into it in this statement (migration 020); an unknown batch fails it, storing nothing.
WITH recorded AS (
INSERT INTO errand.statuses AS s (id, job, queue, priority, state, executions, enqueued_at, run_at, updated_at, body, batch_id)
SELECT p.id, p.job, p.queue, p.priority, CASE WHEN p.run_at > now() THEN 'scheduled' ELSE 'queued' END,
       p.executions, p.enqueued_at, p.run_at, now(), p.body, p.batch_id
FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::timestamptz[], $7::timestamptz[], $9::text[], $10::text[])
  AS p(id, job, queue, priority, executions, enqueued_at, run_at, body, batch_id)
ON CONFLICT (id) DO UPDATE
SET job = excluded.job, queue = excluded.queue, priority = excluded.priority, state = excluded.state,
    executions = excluded.executions, enqueued_at = excluded.enqueued_at, run_at = excluded.run_at,
    updated_at = excluded.updated_at, body = excluded.body, progress = NULL, result = NULL, error = NULL,
    started_at = NULL, finished_at = NULL, lease = NULL, expires_at = NULL,
    batch_id = excluded.batch_id, batch_callback = false
RETURNING s.id, s.batch_id
)
SELECT errand.notify_ids($8, array_agg(id)) AS reported,
       errand.store_batch_enqueued(array_agg(id) FILTER (WHERE batch_id IS NOT NULL), array_agg(batch_id) FILTER (WHERE batch_id IS NOT NULL)) AS counted
FROM recorded
