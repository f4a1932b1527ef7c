-- Stores a batch in which some payloads carry flow control (unique, recurring, concurrency,
-- rate limit): enqueue_flow (migration 006) decides each in order and returns, per payload,
-- the stored id or the holder's with duplicate = true. Batches without flow use enqueue.sql.
-- $1 payloads json, $2 wake channel text, $3 status channel text (null: none)
SELECT out_id AS id, out_duplicate AS duplicate FROM errand.enqueue_flow($1::json, $2, $3) WITH ORDINALITY AS r ORDER BY r.ordinality
