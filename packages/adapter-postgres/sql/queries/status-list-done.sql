-- A page of finished statuses of the given (state, queue, job) triples, newest first, then id
-- descending, after the cursor, within the retention (migration 015's statuses_done_listing).
-- $1 states text[], $2 queues text[], $3 jobs text[], $4 rows, $5 cursor finished_at (µs since
-- the epoch) or NULL, $6 cursor id, $7 ttl ms of the listed state's statuses (deadTtlMs for dead)
SELECT l.*, (extract(epoch FROM l.finished_at) * 1000000)::bigint AS sort_us
FROM unnest($1::text[], $2::text[], $3::text[]) AS p(state, queue, job)
CROSS JOIN LATERAL (
  SELECT s.id, s.job, s.queue, s.priority, s.state, s.executions, s.progress, s.result, s.error, s.enqueued_at, s.run_at,
         s.started_at, s.finished_at, s.updated_at, s.body, s.run_at > now() AS future
  FROM errand.statuses AS s
  WHERE s.state = p.state AND s.queue = p.queue AND s.job = p.job AND s.finished_at IS NOT NULL
    AND s.finished_at > now() - $7 * interval '1 millisecond'
    AND ($5::bigint IS NULL OR (s.finished_at, s.id) < (to_timestamp(0) + $5 * interval '1 microsecond', $6::text))
  ORDER BY s.finished_at DESC, s.id DESC
  LIMIT $4
) AS l
ORDER BY l.finished_at DESC, l.id DESC
LIMIT $4
