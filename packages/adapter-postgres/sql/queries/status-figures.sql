-- What the status store adds to listQueues, per queue (migration 015's listing indexes):
-- live counts (a due scheduled job counts as queued), succeeded and failed statuses within the
-- retention, and the run time of the oldest job waiting to run (queued, or scheduled and due).
-- $1 queues text[], $2 ttl ms of a finished status
SELECT q.queue,
  (SELECT count(*) FROM errand.statuses AS s WHERE s.state = 'queued' AND s.queue = q.queue AND s.finished_at IS NULL)::int
    + (SELECT count(*) FROM errand.statuses AS s WHERE s.state = 'scheduled' AND s.queue = q.queue AND s.finished_at IS NULL AND s.run_at <= now())::int AS queued,
  (SELECT count(*) FROM errand.statuses AS s WHERE s.state = 'scheduled' AND s.queue = q.queue AND s.finished_at IS NULL AND s.run_at > now())::int AS scheduled,
  (SELECT count(*) FROM errand.statuses AS s WHERE s.state = 'running' AND s.queue = q.queue AND s.finished_at IS NULL)::int AS running,
  (SELECT count(*) FROM errand.statuses AS s WHERE s.state = 'retrying' AND s.queue = q.queue AND s.finished_at IS NULL)::int AS retrying,
  (SELECT count(*) FROM errand.statuses AS s WHERE s.state = 'succeeded' AND s.queue = q.queue
     AND s.finished_at IS NOT NULL AND s.finished_at > now() - $2 * interval '1 millisecond')::int AS succeeded,
  (SELECT count(*) FROM errand.statuses AS s WHERE s.state = 'failed' AND s.queue = q.queue
     AND s.finished_at IS NOT NULL AND s.finished_at > now() - $2 * interval '1 millisecond')::int AS failed,
  least(
    (SELECT min(s.run_at) FROM errand.statuses AS s WHERE s.state = 'queued' AND s.queue = q.queue AND s.finished_at IS NULL),
    (SELECT min(s.run_at) FROM errand.statuses AS s WHERE s.state = 'scheduled' AND s.queue = q.queue AND s.finished_at IS NULL AND s.run_at <= now())
  ) AS oldest
FROM unnest($1::text[]) AS q(queue)
