-- Batch records by id (migration 019). $1 ids uuid[]
SELECT id, description, state, total, pending, succeeded, discarded, dead, failed,
       ARRAY(SELECT jsonb_object_keys(callbacks)) AS kinds, enqueued, created_at, finished_at
FROM errand.job_batches WHERE id = ANY ($1::uuid[])
