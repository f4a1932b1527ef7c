-- Stores a batch of jobs and nudges idle workers of the queues that got a job due now.
-- NOTIFY is delivered at commit, so a job enqueued inside a caller's transaction wakes
-- nobody until it exists.
--
-- The batch is one json parameter, the array of wire-format payloads: the client
-- stringifies it once, and each element's text is stored verbatim as the body (the json
-- type keeps text as written). Sending bodies as a text[] instead made pg escape every
-- quote of every body into an array literal for PostgreSQL to parse back: 11.5 µs of
-- client CPU per job against 2 µs. Each element's fields are read in one pass
-- (json_to_record) rather than one `->>` per field, which scans the element's text again
-- each time (enqueue-uniform.sql has the numbers).
-- An element is either a whole payload (stored as its text) or, for a narrow body
-- (src/body.ts), the fields read here plus `_narrow`, the rest of the payload: stored as `_`
-- and its text (99 bytes less per no-op job in the row and in this statement's WAL).
-- The stored ids are NOTIFYed on the status channel (migration 005; NULL: none).
-- $1 payloads json, $2 wake channel text, $3 status channel text (null: none)
-- A job id stored already is skipped (ON CONFLICT (id) DO NOTHING), neither stored again nor
-- announced: ids are UUIDv7 made by core, so a repeat is the same job sent again — the
-- outbox relay resends a batch it was killed before deleting (docs/architecture.md, "Enqueue
-- is idempotent by job id"). Its cost on this statement: bench/outbox/README.md.
-- "Due now" is against statement_timestamp(), not now(): inside the caller's transaction
-- now() is its BEGIN time, before the job's runAt, and the job would wake nobody.
-- A job of a batch (migration 019) carries the batch's id: `batchId` beside a narrow body,
-- `batch.id` in a whole payload (a callback's is not counted); the jobs inserted with one are
-- counted into their batches (batch_enqueued, which fails the statement for an unknown id).
-- Jobs without: two absent keys for json_to_record, and batch_enqueued is not called (STRICT).
WITH inserted AS (
  INSERT INTO errand.jobs (id, job, queue, priority, run_at, state, body, executions, enqueued_at, batch_id)
  SELECT r.id, r.job, r.queue, r.priority, r."runAt", 'available', CASE WHEN r._narrow IS NULL THEN p::text ELSE '_' || r._narrow::text END,
         r.executions, r."enqueuedAt", coalesce(r."batchId", CASE WHEN r.batch->'callback' IS NULL THEN (r.batch->>'id')::uuid END)
  FROM json_array_elements($1::json) AS p,
       json_to_record(p) AS r(id uuid, job text, queue text, priority int, "runAt" timestamptz, executions int, "enqueuedAt" timestamptz, _narrow json, batch json, "batchId" uuid)
  ON CONFLICT (id) DO NOTHING
  RETURNING id, queue, run_at, batch_id
),
woken AS (
  SELECT pg_notify($2, queue) FROM (SELECT DISTINCT queue FROM inserted WHERE run_at <= statement_timestamp()) AS due
)
SELECT (SELECT count(*) FROM woken) AS woken, errand.notify_uuids($3, (SELECT array_agg(id) FROM inserted)) AS reported,
       errand.batch_enqueued((SELECT array_agg(batch_id) FROM inserted WHERE batch_id IS NOT NULL)) AS batched
