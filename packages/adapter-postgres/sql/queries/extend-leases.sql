-- Pushes out the leases still held; returns the ids that were (the others were lost).
-- $1 ids uuid[], $2 tokens bigint[], $3 lease ms
UPDATE errand.jobs AS jobs
SET lease_until = now() + $3 * interval '1 millisecond', updated_at = now()
FROM unnest($1::uuid[], $2::bigint[]) AS h(id, token)
WHERE jobs.id = h.id AND jobs.lease_token = h.token AND jobs.state = 'running'
RETURNING jobs.id
