-- Stores the latest progress of running jobs.
-- $1 ids uuid[], $2 progress jsonb[]
UPDATE errand.jobs AS jobs
SET progress = p.progress, updated_at = now()
FROM unnest($1::uuid[], $2::jsonb[]) AS p(id, progress)
WHERE jobs.id = p.id AND jobs.state = 'running'
