-- Records stored jobs: queued, or scheduled while their run_at is later. A job enqueued
-- again (a dead job moved back) starts afresh: every field is replaced, its lease and
-- expiry dropped. Each id appears once per call. The ids are NOTIFYed on the store's
-- channel (migration 005).
-- $1 ids text[], $2 job classes text[], $3 queues text[], $4 priorities int[],
-- $5 executions int[], $6 enqueued_at timestamptz[], $7 run_at timestamptz[], $8 channel text,
-- $9 bodies text[] (the payload text the message carries: kept while the job lives, migration 015)
WITH recorded AS (
INSERT INTO errand.statuses AS s (id, job, queue, priority, state, executions, enqueued_at, run_at, updated_at, body)
SELECT p.id, p.job, p.queue, p.priority, CASE WHEN p.run_at > now() THEN 'scheduled' ELSE 'queued' END,
       p.executions, p.enqueued_at, p.run_at, now(), p.body
FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::timestamptz[], $7::timestamptz[], $9::text[])
  AS p(id, job, queue, priority, executions, enqueued_at, run_at, body)
ON CONFLICT (id) DO UPDATE
SET job = excluded.job, queue = excluded.queue, priority = excluded.priority, state = excluded.state,
    executions = excluded.executions, enqueued_at = excluded.enqueued_at, run_at = excluded.run_at,
    updated_at = excluded.updated_at, body = excluded.body, progress = NULL, result = NULL, error = NULL,
    started_at = NULL, finished_at = NULL, lease = NULL, expires_at = NULL
RETURNING s.id
)
SELECT errand.notify_ids($8, array_agg(id)) AS reported FROM recorded
