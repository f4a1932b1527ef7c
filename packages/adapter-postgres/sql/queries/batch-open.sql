-- Stores new batches, open, every count at 0 (migration 019). An id stored already fails the
-- statement on the primary key (the adapter names the id). $1 batches json:
-- [{id, description, callbacks, createdAt}]
INSERT INTO errand.job_batches (id, description, callbacks, created_at)
SELECT b.id, b.description, coalesce(b.callbacks, '{}'::jsonb), b."createdAt"
FROM json_to_recordset($1::json) AS b(id uuid, description text, callbacks jsonb, "createdAt" timestamptz)
