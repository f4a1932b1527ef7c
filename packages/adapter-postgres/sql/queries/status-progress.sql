-- Records the latest progress of live jobs (a finished status keeps its last progress).
-- Each id appears once per call.
-- $1 ids text[], $2 progress jsonb[]
UPDATE errand.statuses AS s
SET progress = p.progress, updated_at = now()
FROM unnest($1::text[], $2::jsonb[]) AS p(id, progress)
WHERE s.id = p.id AND s.state IS NOT NULL AND s.finished_at IS NULL
