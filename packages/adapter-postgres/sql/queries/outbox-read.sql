-- The relay's round: the oldest rows of the outbox, in order.
-- $1 most rows
SELECT seq, adapter, job_id, body FROM errand.outbox ORDER BY seq LIMIT $1
