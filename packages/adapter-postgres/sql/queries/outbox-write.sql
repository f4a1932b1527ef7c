-- Stores jobs in the outbox (migration 016) inside the app's transaction, and NOTIFYs the
-- relay, delivered at commit (dropped on rollback; one per transaction however many writes).
-- One statement so it runs through any TransactionConnection; the rows come as one JSON
-- parameter because every driver passes a string and not all pass arrays. Inserted in the
-- order given (WITH ORDINALITY), so `seq` follows it.
-- $1 channel text, $2 rows json: [{ a: adapter | null, q: queue, i: job id, b: body }]
WITH written AS (
  INSERT INTO errand.outbox (adapter, queue, job_id, body)
  SELECT r->>'a', r->>'q', r->>'i', r->>'b'
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(r, n)
  ORDER BY n
  RETURNING 1
)
SELECT pg_notify($1, '') FROM (SELECT count(*) FROM written) AS w
