-- Counts per queue and state. Parked jobs (a full concurrency key) and deferred ones (a rate
-- limit) are queued.
SELECT queue,
       count(*) FILTER (WHERE state = 'parked' OR (state = 'available' AND (deferred OR (run_at <= now() AND error IS NULL)))) AS queued,
       count(*) FILTER (WHERE state = 'available' AND NOT deferred AND run_at > now() AND error IS NULL) AS scheduled,
       count(*) FILTER (WHERE state = 'running') AS running,
       count(*) FILTER (WHERE state = 'available' AND NOT deferred AND error IS NOT NULL) AS retrying,
       count(*) FILTER (WHERE state = 'dead') AS dead
FROM errand.jobs
WHERE state IN ('available', 'parked', 'running', 'dead')
GROUP BY queue ORDER BY queue
