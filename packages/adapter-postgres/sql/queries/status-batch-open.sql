-- StatusStoreBatches.open (migration 020). $1 the batches, a JSON array of
-- { id, description, created_at, callbacks }
SELECT errand.store_batch_open($1::jsonb) AS opened
