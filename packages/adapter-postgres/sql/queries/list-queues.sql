-- Counts per queue and state.
SELECT queue,
       count(*) FILTER (WHERE state = 'available' AND run_at <= now() AND error IS NULL) AS queued,
       count(*) FILTER (WHERE state = 'available' AND run_at > now() AND error IS NULL) AS scheduled,
       count(*) FILTER (WHERE state = 'running') AS running,
       count(*) FILTER (WHERE state = 'available' AND error IS NOT NULL) AS retrying,
       count(*) FILTER (WHERE state = 'dead') AS dead
FROM errand.jobs
WHERE state IN ('available', 'running', 'dead')
GROUP BY queue ORDER BY queue
