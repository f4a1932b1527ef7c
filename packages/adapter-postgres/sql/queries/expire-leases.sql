-- Makes jobs whose lease ran out (their worker died) available again, as a release does.
-- Their ids are NOTIFYed on the status channel (migration 005). An expired holder of a
-- concurrency slot frees it: flow_release (migration 006) un-parks one job of its key.
-- $1 status channel text (null: none), $2 wake channel text
WITH expired AS (
  UPDATE errand.jobs
  SET state = 'available', lease_token = NULL, lease_until = NULL, executions = executions - 1, updated_at = now()
  WHERE state = 'running' AND lease_until < now()
  RETURNING id, concurrency_key
)
SELECT errand.notify_uuids($1, array_agg(id)) AS reported,
       errand.flow_release(array_agg(concurrency_key) FILTER (WHERE concurrency_key IS NOT NULL), $2, coalesce($1, '')) AS unparked
FROM expired
