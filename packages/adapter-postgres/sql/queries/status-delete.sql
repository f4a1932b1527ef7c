-- Forgets jobs (purged from the backend). The ids deleted are NOTIFYed on the store's
-- channel (migration 005). $1 ids text[], $2 channel text
-- A job of a batch counted pending is taken out of its batch (migration 020).
WITH deleted AS (
  DELETE FROM errand.statuses WHERE id = ANY($1::text[]) RETURNING id, batch_id
)
SELECT errand.notify_ids($2, array_agg(id)) AS reported,
       errand.store_batch_forget(array_agg(id) FILTER (WHERE batch_id IS NOT NULL), array_agg(batch_id) FILTER (WHERE batch_id IS NOT NULL)) AS forgotten
FROM deleted
