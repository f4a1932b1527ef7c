-- Makes jobs whose lease ran out (their worker died) available again, as a release does.
-- Returns the queues that got jobs back, to nudge their workers.
UPDATE errand.jobs
SET state = 'available', lease_token = NULL, lease_until = NULL, executions = executions - 1, updated_at = now()
WHERE state = 'running' AND lease_until < now()
RETURNING queue
