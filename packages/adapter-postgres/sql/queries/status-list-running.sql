-- A page of running statuses of the given (state, queue, job) triples, by id, after the
-- cursor id. Running jobs are few (workers × concurrency): each triple's are sorted.
-- $1 states text[], $2 queues text[], $3 jobs text[], $4 rows, $5 cursor id or NULL
SELECT l.*, 0::bigint AS sort_us
FROM unnest($1::text[], $2::text[], $3::text[]) AS p(state, queue, job)
CROSS JOIN LATERAL (
  SELECT s.id, s.job, s.queue, s.priority, s.state, s.executions, s.progress, s.result, s.error, s.enqueued_at, s.run_at,
         s.started_at, s.finished_at, s.updated_at, s.body, s.run_at > now() AS future
  FROM errand.statuses AS s
  WHERE s.state = p.state AND s.queue = p.queue AND s.job = p.job AND s.finished_at IS NULL
    AND ($5::text IS NULL OR s.id > $5)
  ORDER BY s.id
  LIMIT $4
) AS l
ORDER BY l.id
LIMIT $4
