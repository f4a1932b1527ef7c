-- Makes jobs whose lease ran out (their worker died) available again, as a release does.
-- It looks at open batches past their deadline (migration 010: a batch's deadline is the
-- latest of its jobs'), and at their jobs by id (those still holding the batch's token); a
-- batch with no live lease left is closed. The batch's row is changed under its lock after
-- a renewal's (which pushes its deadline and opens it): the `lease_until < now()` re-check
-- then keeps it open.
-- Their ids are NOTIFYed on the status channel (migration 005). An expired holder of a
-- concurrency slot frees it: its slot goes, and flow_release un-parks one job of its key.
-- Bounded by the ids looked at ($3): due batches in deadline order, up to 1,000, while the
-- jobs counted before each stay under $3 (the first always goes). Bounded by batches alone,
-- a call over batches of 1,020 jobs (a backlog drained at full prefetch) probed up to a
-- million ids; the adapter runs another call soon while calls come back full (upkeep.ts).
-- $1 status channel text (null: none), $2 wake channel text, $3 ids per call
WITH due AS MATERIALIZED (
  SELECT s.token FROM (
    SELECT c.token, sum(c.jobs) OVER (ORDER BY c.lease_until, c.token) - c.jobs AS before
    FROM (SELECT b.token, b.jobs, b.lease_until FROM errand.batches AS b
          WHERE b.open AND b.lease_until < now() ORDER BY b.lease_until LIMIT 1000) AS c
  ) AS s
  WHERE s.before < $3
),
held AS MATERIALIZED (
  SELECT b.token, x.id FROM due JOIN errand.batches AS b ON b.token = due.token CROSS JOIN LATERAL unnest(b.ids) AS x(id)
),
expired AS (
  UPDATE errand.jobs AS j
  SET state = 'available', lease_token = NULL, lease_until = NULL, executions = j.executions - 1, updated_at = now()
  FROM held
  WHERE j.id = held.id AND j.lease_token = held.token AND j.state = 'running' AND j.lease_until < now()
  RETURNING j.id, j.concurrency_key
),
freed AS (
  DELETE FROM errand.slots AS s USING expired WHERE s.key = expired.concurrency_key AND s.job_id = expired.id
),
live AS (
  SELECT j.lease_token AS token, max(j.lease_until) AS until
  FROM held JOIN errand.jobs AS j ON j.id = held.id AND j.lease_token = held.token
  WHERE j.state = 'running' AND j.lease_until >= now()
  GROUP BY j.lease_token
),
closed AS (
  UPDATE errand.batches AS b SET open = live.until IS NOT NULL, lease_until = coalesce(live.until, b.lease_until)
  FROM due LEFT JOIN live ON live.token = due.token
  WHERE b.token = due.token AND b.lease_until < now()
)
SELECT (SELECT count(*) FROM due) AS batches, (SELECT count(*) FROM held) AS looked,
       errand.notify_uuids($1, array_agg(id)) AS reported,
       errand.flow_release(array_agg(concurrency_key) FILTER (WHERE concurrency_key IS NOT NULL), $2, coalesce($1, '')) AS unparked
FROM expired
