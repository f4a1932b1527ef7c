-- What the status store adds to listQueues, per queue (migration 015's listing indexes):
-- live counts (a due scheduled job counts as queued), succeeded, failed and dead statuses within
-- their retention, and the run time of the oldest job waiting to run (queued, or scheduled and due).
-- $1 queues text[], $2 ttl ms of a succeeded or failed status, $3 ttl ms of a dead one
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
  (SELECT count(*) FROM errand.statuses AS s WHERE s.state = 'dead' AND s.queue = q.queue
     AND s.finished_at IS NOT NULL AND s.finished_at > now() - $3 * interval '1 millisecond')::int AS dead,
  least(
    (SELECT min(s.run_at) FROM errand.statuses AS s WHERE s.state = 'queued' AND s.queue = q.queue AND s.finished_at IS NULL),
    (SELECT min(s.run_at) FROM errand.statuses AS s WHERE s.state = 'scheduled' AND s.queue = q.queue AND s.finished_at IS NULL AND s.run_at <= now())
  ) AS oldest
FROM unnest($1::text[]) AS q(queue)
