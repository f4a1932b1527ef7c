-- Queues with jobs waiting (queued, scheduled or retrying, from the count log), but those in
-- $1: what a reserve over "*" with `except` takes from instead (adapter.ts).
SELECT c.queue FROM errand.queue_counts AS c
WHERE c.kind IN ('q', 'S', 'r') AND c.queue <> ALL($1::text[])
GROUP BY c.queue HAVING sum(c.n) > 0 ORDER BY c.queue
