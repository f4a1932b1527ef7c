-- Forgets jobs (purged from the backend). The ids deleted are NOTIFYed on the store's
-- channel (migration 005). $1 ids text[], $2 channel text
WITH deleted AS (
  DELETE FROM errand.statuses WHERE id = ANY($1::text[]) RETURNING id
)
SELECT errand.notify_ids($2, array_agg(id)) AS reported FROM deleted
