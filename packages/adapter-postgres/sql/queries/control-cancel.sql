-- Cancels jobs not started yet (errand.cancel_jobs, migration 014). $1 ids uuid[],
-- $2 error jsonb, $3 status channel (null: none), $4 wake channel (a cancelled job of a batch
-- is counted discarded, and may finish it: migration 019)
SELECT out_id AS id FROM errand.cancel_jobs($1::uuid[], $2::jsonb, $3, $4)
