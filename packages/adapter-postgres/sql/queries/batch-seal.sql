-- Seals batches (batch_seal, migration 019): open → running; those with no job pending finish
-- here and enqueue their callbacks. An unknown id fails the statement, naming it.
-- $1 ids uuid[] (sorted), $2 wake channel text, $3 status channel text (null: none)
SELECT errand.batch_seal($1::uuid[], $2, coalesce($3, '')) AS callbacks
