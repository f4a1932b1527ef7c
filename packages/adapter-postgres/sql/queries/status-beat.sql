-- StatusStoreControl.heartbeat (migrations 015, 021): one statement per beat. The worker's record
-- is stored (or, stopping, removed; gone workers' records go an hour after their ttl), its
-- finished counts added to the minute's rows, minutes older than 1,500 dropped, abort marks
-- older than an hour dropped. Answers every paused queue, and the jobs among those it runs
-- marked for the run they still hold (same lease), by the mark's kind; marks of runs that ended are dropped.
-- $1 worker id, $2 record jsonb, $3 stopping boolean, $4 ttl ms, $5 minute bigint,
-- $6 queues text[], $7 succeeded bigint[], $8 failed bigint[], $9 ids of the jobs it runs text[]
WITH gone AS (
  DELETE FROM errand.status_workers WHERE keep_until <= now() AND id <> $1
),
stored AS (
  INSERT INTO errand.status_workers (id, record, keep_until)
  SELECT $1, $2, now() + ($4 + 3600000) * interval '1 millisecond' WHERE NOT $3
  ON CONFLICT (id) DO UPDATE SET record = excluded.record, keep_until = excluded.keep_until
),
removed AS (
  DELETE FROM errand.status_workers WHERE id = $1 AND $3
),
counted AS (
  INSERT INTO errand.status_throughput AS t (queue, minute, succeeded, failed)
  SELECT c.queue, $5, c.succeeded, c.failed FROM unnest($6::text[], $7::bigint[], $8::bigint[]) AS c(queue, succeeded, failed)
  WHERE c.succeeded > 0 OR c.failed > 0
  ON CONFLICT (queue, minute) DO UPDATE SET succeeded = t.succeeded + excluded.succeeded, failed = t.failed + excluded.failed
),
old_minutes AS (
  DELETE FROM errand.status_throughput WHERE minute < $5 - 1500
),
asked AS (
  SELECT a.id, a.kind, s.state = 'running' AND s.lease IS NOT DISTINCT FROM a.lease AS current
  FROM errand.status_aborts AS a LEFT JOIN errand.statuses AS s ON s.id = a.id
  WHERE a.id = ANY($9::text[])
),
dropped AS (
  DELETE FROM errand.status_aborts AS a
  WHERE a.asked_at < now() - interval '1 hour' OR a.id IN (SELECT id FROM asked WHERE current IS NOT TRUE)
)
SELECT (SELECT coalesce(array_agg(queue ORDER BY queue), '{}') FROM errand.status_paused) AS paused,
       (SELECT coalesce(array_agg(id), '{}') FROM asked WHERE current AND kind = 'abort') AS abort,
       (SELECT coalesce(array_agg(id), '{}') FROM asked WHERE current AND kind = 'interrupt') AS interrupt
