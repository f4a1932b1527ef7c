-- Records deliveries: a live job (recorded, not finished) becomes running with one more
-- execution. Whatever the job's state, the delivery's lease becomes the current one: a
-- duplicate delivery of a finished job, or of one never recorded, must still be able to
-- settle, and the delivery before it is stale from then on. A row that only holds a lease
-- (state NULL) expires like a finished one, so deliveries nobody settles do not pile up; an
-- expired row is treated as absent. Each id appears once per call. The ids of jobs now
-- running are NOTIFYed on the store's channel (migration 005); a lease alone changes no
-- status anyone reads.
-- $1 ids text[], $2 leases text[], $3 ttl ms of a lease-only row, $4 channel text
WITH started AS (
INSERT INTO errand.statuses AS s (id, lease, expires_at)
SELECT l.id, l.lease, now() + $3 * interval '1 millisecond'
FROM unnest($1::text[], $2::text[]) AS l(id, lease)
ON CONFLICT (id) DO UPDATE
SET lease = excluded.lease,
    state = CASE WHEN s.expires_at <= now() THEN NULL
                 WHEN s.state IS NOT NULL AND s.finished_at IS NULL THEN 'running'
                 ELSE s.state END,
    executions = CASE WHEN s.state IS NOT NULL AND s.finished_at IS NULL THEN s.executions + 1 ELSE s.executions END,
    started_at = CASE WHEN s.state IS NOT NULL AND s.finished_at IS NULL THEN now() ELSE s.started_at END,
    updated_at = CASE WHEN s.state IS NOT NULL AND s.finished_at IS NULL THEN now() ELSE s.updated_at END,
    expires_at = CASE WHEN s.state IS NULL OR s.expires_at <= now() THEN excluded.expires_at ELSE s.expires_at END
RETURNING s.id, s.state, s.finished_at
)
SELECT errand.notify_ids($4, array_agg(id)) AS reported FROM started WHERE state IS NOT NULL AND finished_at IS NULL
