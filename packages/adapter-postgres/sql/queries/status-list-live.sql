-- A page of live statuses of the given (state, queue, job) triples, by run_at then id, after
-- the cursor (migration 015's statuses_live_listing: each triple's first rows, merged).
-- Scheduled rows are those due ($7 'due': they list as queued) or those ahead ($7 'ahead').
-- $1 states text[], $2 queues text[], $3 jobs text[], $4 rows, $5 cursor run_at (µs since
-- the epoch) or NULL, $6 cursor id, $7 'due' | 'ahead'
SELECT l.*, (extract(epoch FROM l.run_at) * 1000000)::bigint AS sort_us
FROM unnest($1::text[], $2::text[], $3::text[]) AS p(state, queue, job)
CROSS JOIN LATERAL (
  SELECT s.id, s.job, s.queue, s.priority, s.state, s.executions, s.progress, s.result, s.error, s.enqueued_at, s.run_at,
         s.started_at, s.finished_at, s.updated_at, s.body, s.run_at > now() AS future
  FROM errand.statuses AS s
  WHERE s.state = p.state AND s.queue = p.queue AND s.job = p.job AND s.finished_at IS NULL
    AND (s.state <> 'scheduled' OR (s.run_at <= now()) = ($7 = 'due'))
    AND ($5::bigint IS NULL OR (s.run_at, s.id) > (to_timestamp(0) + $5 * interval '1 microsecond', $6::text))
  ORDER BY s.run_at, s.id
  LIMIT $4
) AS l
ORDER BY l.run_at, l.id
LIMIT $4
