-- Jobs a run-now applies to (scheduled, or retrying), with what rebuilds their payload, and
-- the time to make them due at (the server's, to the millisecond). $1 ids uuid[]
SELECT id, body, priority, (extract(epoch FROM updated_at) * 1000000)::int8 AS version, date_trunc('milliseconds', now()) AS now,
       CASE WHEN left(body, 1) = '_' THEN (extract(epoch FROM run_at) * 1000)::int8 END AS run_ms
FROM errand.jobs
WHERE id = ANY($1::uuid[]) AND state = 'available' AND NOT deferred AND (error IS NOT NULL OR run_at > now())
