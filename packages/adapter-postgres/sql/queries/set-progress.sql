-- Stores the latest progress of running jobs.
-- The updated ids are NOTIFYed on the status channel (migration 005).
-- $1 ids uuid[], $2 progress jsonb[], $3 status channel text (null: none)
WITH updated AS (
  UPDATE errand.jobs AS jobs
  SET progress = p.progress, updated_at = now()
  FROM unnest($1::uuid[], $2::jsonb[]) AS p(id, progress)
  WHERE jobs.id = p.id AND jobs.state = 'running'
  RETURNING jobs.id
)
SELECT errand.notify_uuids($3, array_agg(id)) AS reported FROM updated
