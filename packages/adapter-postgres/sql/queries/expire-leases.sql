-- Makes jobs whose lease ran out (their worker died) available again, as a release does.
-- Their ids are NOTIFYed on the status channel (migration 005).
-- $1 status channel text (null: none)
WITH expired AS (
  UPDATE errand.jobs
  SET state = 'available', lease_token = NULL, lease_until = NULL, executions = executions - 1, updated_at = now()
  WHERE state = 'running' AND lease_until < now()
  RETURNING id
)
SELECT errand.notify_uuids($1, array_agg(id)) AS reported FROM expired
