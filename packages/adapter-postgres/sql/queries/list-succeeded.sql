-- Succeeded jobs, newest reserve call first (errand.list_succeeded, migration 014, says why
-- and how), with their rows. The key is (token, finished_at, id), descending.
-- $1 queue (null: all), $2 job class (null: all), $3 cursor token (null: from the newest),
-- $4 cursor finished_at (µs since the epoch), $5 cursor id, $6 rows (limit + 1), $7 ids looked at
WITH k AS MATERIALIZED (
  SELECT * FROM errand.list_succeeded($1::text, $2::text, coalesce($3::int8, 9223372036854775807),
    coalesce(timestamptz 'epoch' + $4::int8 * interval '1 microsecond', 'infinity'),
    coalesce($5::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'), $6::int, $7::int)
)
SELECT k.frontier, NOT k.frontier AS hit, j.id, j.job, j.queue, j.priority, j.state, j.executions, j.progress, j.result, j.error, j.enqueued_at,
       j.run_at, j.started_at, j.finished_at, j.updated_at, j.body,
       CASE WHEN left(j.body, 1) = '_' THEN (extract(epoch FROM j.run_at) * 1000)::int8 END AS run_ms,
       k.token::text AS k1, CASE WHEN k.frontier THEN NULL ELSE (extract(epoch FROM k.finished_at) * 1000000)::int8::text END AS k2,
       k.id::text AS k3
FROM k LEFT JOIN errand.jobs AS j ON j.id = k.id AND NOT k.frontier
ORDER BY k.n
