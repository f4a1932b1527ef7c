-- StatusStoreBatches.get (migration 020): the records of these ids still kept, in the
-- columns of batch-get.sql (batch-record.ts maps both). $1 ids text[]
SELECT id, description, state, total, pending, succeeded, discarded, dead, failed,
       ARRAY(SELECT jsonb_object_keys(callbacks)) AS kinds, enqueued_callbacks AS enqueued, created_at, finished_at
FROM errand.store_batches
WHERE id = ANY($1::text[]) AND (expires_at IS NULL OR expires_at > now())
