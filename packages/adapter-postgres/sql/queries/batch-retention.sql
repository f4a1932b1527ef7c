-- Deletes finished batch records (migration 019) older than $1 ms, the finished jobs'
-- retention (retention.sql), up to $2 per call, oldest first. A finished batch with a job
-- pending again (a dead one retried) stays until that job finished. SKIP LOCKED: a step
-- never waits for a settle counting into a batch, nor two steps for each other.
-- Returns how many were deleted.
WITH doomed AS (
  SELECT b.id FROM errand.job_batches AS b
  WHERE b.state = 'finished' AND b.finished_at < now() - $1 * interval '1 millisecond' AND b.pending = 0
  ORDER BY b.finished_at LIMIT $2
  FOR UPDATE SKIP LOCKED
),
deleted AS (
  DELETE FROM errand.job_batches AS b USING doomed WHERE b.id = doomed.id RETURNING b.id
)
SELECT count(*) AS deleted FROM deleted
