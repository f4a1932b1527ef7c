-- What listQueues adds with capability control: every paused queue (kind p), and the
-- throughput rows of minutes $1 to $2 (kind t; none when $1 is null).
SELECT 'p' AS kind, p.queue, NULL::int AS minute, NULL::int8 AS succeeded, NULL::int8 AS failed FROM errand.paused_queues AS p
UNION ALL
SELECT 't', t.queue, t.minute, t.succeeded, t.failed FROM errand.throughput AS t
WHERE $1::int IS NOT NULL AND t.minute BETWEEN $1::int AND $2::int
