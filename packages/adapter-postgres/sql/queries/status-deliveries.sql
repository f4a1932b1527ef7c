-- StatusStoreControl.deliveries (migration 015): records deliveries as status-started.sql does,
-- except the void ones: a live void mark (status_voids) naming the runAt its body carries
-- ('*': every copy). Those are answered by position and their statuses left alone;
-- their marks now go with a finished status's retention (their message came and is deleted).
-- Void too: a delivery of a batch's callback whose status is finished (its message was sent
-- twice: the sender died between SQS's answer and the confirm; a callback runs once,
-- migration 020). Each id appears once per call. The ids of jobs now running are NOTIFYed (migration 005).
-- $1 ids text[], $2 leases text[], $3 runAt texts of the bodies text[], $4 ttl ms, $5 channel text
WITH d AS (
  SELECT d.id, d.lease, d.n::int AS n,
         EXISTS (SELECT 1 FROM errand.status_voids AS v
                 WHERE v.id = d.id AND v.expires_at > now() AND ('*' = ANY(v.run_ats) OR d.run_at = ANY(v.run_ats)))
         OR EXISTS (SELECT 1 FROM errand.statuses AS c
                    WHERE c.id = d.id AND c.batch_callback AND c.finished_at IS NOT NULL AND c.expires_at > now()) AS void
  FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS d(id, lease, run_at, n)
),
shortened AS (
  UPDATE errand.status_voids AS v SET expires_at = least(v.expires_at, now() + $4 * interval '1 millisecond')
  FROM d WHERE d.void AND v.id = d.id
),
started AS (
INSERT INTO errand.statuses AS s (id, lease, expires_at)
SELECT d.id, d.lease, now() + $4 * interval '1 millisecond'
FROM d WHERE NOT d.void
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
SELECT (SELECT coalesce(array_agg(n ORDER BY n), '{}') FROM d WHERE d.void) AS void,
       errand.notify_ids($5, (SELECT array_agg(id) FROM started WHERE state IS NOT NULL AND finished_at IS NULL)) AS reported
