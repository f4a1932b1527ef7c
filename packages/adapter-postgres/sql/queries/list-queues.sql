-- Counts per queue and state, from the count log (migration 014: sums of `queue_counts`),
-- with what depends on the clock worked out here: a job waiting for its run time (kind S)
-- whose time came before a reserve promoted it reads as queued. Those are counted in the
-- due range of jobs_scheduled (012), which reserves keep short. Latency: the age of the
-- oldest ready job of the queue (a loose scan of jobs_ready_by_queue, one probe per queue
-- and priority; a due retry counts too), or of its oldest due scheduled one; 0 when
-- nothing is queued. `rows` is how many count rows were read: the adapter folds them when
-- there are many (listQueues).
WITH RECURSIVE heads AS (
  (SELECT j.queue, j.priority, j.run_at FROM errand.jobs AS j WHERE j.lease_token IS NULL
   ORDER BY j.queue, j.priority, j.run_at, j.seq LIMIT 1)
  UNION ALL
  SELECT n.queue, n.priority, n.run_at FROM heads AS h CROSS JOIN LATERAL (
    SELECT j.queue, j.priority, j.run_at FROM errand.jobs AS j
    WHERE j.lease_token IS NULL AND (j.queue, j.priority) > (h.queue, h.priority)
    ORDER BY j.queue, j.priority, j.run_at, j.seq LIMIT 1) AS n
),
oldest AS (SELECT h.queue, min(h.run_at) AS run_at FROM heads AS h GROUP BY h.queue),
due AS (
  SELECT j.queue, count(*) AS n, min(j.run_at) AS run_at FROM errand.jobs AS j
  WHERE j.lease_token = -2 AND j.run_at <= now() AND j.state = 'available' AND NOT j.deferred AND j.error IS NULL
  GROUP BY j.queue
),
counts AS (
  SELECT c.queue,
         sum(c.n) FILTER (WHERE c.kind = 'q') AS q, sum(c.n) FILTER (WHERE c.kind = 'S') AS s,
         sum(c.n) FILTER (WHERE c.kind = 'r') AS r, sum(c.n) FILTER (WHERE c.kind = 'R') AS running,
         sum(c.n) FILTER (WHERE c.kind = 's') AS succeeded, sum(c.n) FILTER (WHERE c.kind = 'f') AS failed,
         sum(c.n) FILTER (WHERE c.kind = 'd') AS dead, count(*) AS rows
  FROM errand.queue_counts AS c GROUP BY c.queue
)
SELECT c.queue,
       coalesce(c.q, 0) + coalesce(d.n, 0) AS queued,
       coalesce(c.s, 0) - coalesce(d.n, 0) AS scheduled,
       coalesce(c.running, 0) AS running, coalesce(c.r, 0) AS retrying, coalesce(c.dead, 0) AS dead,
       coalesce(c.succeeded, 0) AS succeeded, coalesce(c.failed, 0) AS failed,
       CASE WHEN coalesce(c.q, 0) + coalesce(d.n, 0) = 0 THEN 0
            ELSE greatest(0, (extract(epoch FROM now() - least(o.run_at, d.run_at)) * 1000)::int8) END AS latency_ms,
       c.rows
FROM counts AS c LEFT JOIN due AS d ON d.queue = c.queue LEFT JOIN oldest AS o ON o.queue = c.queue
WHERE coalesce(c.q, 0) <> 0 OR coalesce(c.s, 0) <> 0 OR coalesce(c.r, 0) <> 0 OR coalesce(c.running, 0) <> 0
   OR coalesce(c.succeeded, 0) <> 0 OR coalesce(c.failed, 0) <> 0 OR coalesce(c.dead, 0) <> 0
ORDER BY c.queue
