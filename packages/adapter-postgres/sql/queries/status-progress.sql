-- Records the latest progress of live jobs (a finished status keeps its last progress).
-- Each id appears once per call.
-- The ids updated are NOTIFYed on the store's channel (migration 005).
-- $1 ids text[], $2 progress jsonb[], $3 channel text
WITH updated AS (
  UPDATE errand.statuses AS s
  SET progress = p.progress, updated_at = now()
  FROM unnest($1::text[], $2::jsonb[]) AS p(id, progress)
  WHERE s.id = p.id AND s.state IS NOT NULL AND s.finished_at IS NULL
  RETURNING s.id
)
SELECT errand.notify_ids($3, array_agg(id)) AS reported FROM updated
