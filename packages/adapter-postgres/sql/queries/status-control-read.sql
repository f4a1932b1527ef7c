-- What listQueues reads of the operator's records (migration 015): the paused queues and the
-- finished counts of $2 minutes from minute $1 (UTC minutes since the epoch).
SELECT (SELECT coalesce(array_agg(queue ORDER BY queue), '{}') FROM errand.status_paused) AS paused,
       (SELECT coalesce(json_agg(json_build_array(queue, minute, succeeded, failed)), '[]')
        FROM errand.status_throughput WHERE minute >= $1 AND minute < $1 + $2) AS throughput
