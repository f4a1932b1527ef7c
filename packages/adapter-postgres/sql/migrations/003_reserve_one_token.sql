-- 003: one lease token per reserve call instead of one per job.
--
-- A token only has to tell this reservation of a job from every other reservation of the
-- same job, and one call reserves a job at most once, so the jobs of one call can share it.
-- Settlements still match on (id, token). Measured (reserve 800 + settle, 20k jobs):
-- 1.3 µs less database time per job, a nextval per row saved.

CREATE OR REPLACE FUNCTION errand.reserve_any(p_max integer, p_lease_ms integer, p_worker text)
RETURNS TABLE (id uuid, body text, lease_token bigint, executions integer, ord bigint, priority integer, run_at timestamptz, seq bigint)
LANGUAGE plpgsql
SET enable_bitmapscan = off
SET enable_sort = off
AS $$
#variable_conflict use_column
DECLARE
  v_token bigint := nextval('errand.lease_tokens');
BEGIN
  RETURN QUERY
  WITH picked AS (
    SELECT j.id FROM errand.jobs AS j
    WHERE j.state = 'available' AND j.run_at <= now()
    ORDER BY j.priority, j.run_at, j.seq
    LIMIT p_max
    FOR UPDATE SKIP LOCKED
  )
  UPDATE errand.jobs AS jobs
  SET state = 'running', lease_token = v_token,
      lease_until = now() + p_lease_ms * interval '1 millisecond', worker_id = p_worker,
      executions = jobs.executions + 1, started_at = now(), updated_at = now()
  FROM picked
  WHERE jobs.id = picked.id
  RETURNING jobs.id, jobs.body, jobs.lease_token, jobs.executions, 1::bigint, jobs.priority, jobs.run_at, jobs.seq;
END
$$;

CREATE OR REPLACE FUNCTION errand.reserve_queues(p_queues text[], p_max integer, p_lease_ms integer, p_worker text)
RETURNS TABLE (id uuid, body text, lease_token bigint, executions integer, ord bigint, priority integer, run_at timestamptz, seq bigint)
LANGUAGE plpgsql
SET enable_bitmapscan = off
SET enable_sort = off
AS $$
#variable_conflict use_column
DECLARE
  v_token bigint := nextval('errand.lease_tokens');
BEGIN
  RETURN QUERY
  WITH picked AS (
    SELECT j.id, q.ord
    FROM unnest(p_queues) WITH ORDINALITY AS q(name, ord)
    CROSS JOIN LATERAL (
      SELECT jobs.id FROM errand.jobs AS jobs
      WHERE jobs.state = 'available' AND jobs.queue = q.name AND jobs.run_at <= now()
      ORDER BY jobs.priority, jobs.run_at, jobs.seq
      LIMIT p_max
      FOR UPDATE SKIP LOCKED
    ) AS j
    ORDER BY q.ord
    LIMIT p_max
  )
  UPDATE errand.jobs AS jobs
  SET state = 'running', lease_token = v_token,
      lease_until = now() + p_lease_ms * interval '1 millisecond', worker_id = p_worker,
      executions = jobs.executions + 1, started_at = now(), updated_at = now()
  FROM picked
  WHERE jobs.id = picked.id
  RETURNING jobs.id, jobs.body, jobs.lease_token, jobs.executions, picked.ord, jobs.priority, jobs.run_at, jobs.seq;
END
$$;
