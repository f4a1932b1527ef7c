-- StatusStoreBatches.get (migration 020): the records of these ids still kept. $1 ids text[]
SELECT id, description, state, total, pending, succeeded, discarded, dead, failed,
       callbacks ? 'success' AS has_success, callbacks ? 'complete' AS has_complete, callbacks ? 'failure' AS has_failure,
       enqueued_callbacks, created_at, finished_at
FROM errand.store_batches
WHERE id = ANY($1::text[]) AND (expires_at IS NULL OR expires_at > now())
