-- enqueue.sql for the common batch whose jobs share class, queue, priority and executions
-- (a bulk of one job class, or a single job): those go as scalars instead of being read
-- out of every element. Each element's fields are read in one pass (json_to_record), not
-- one `->>` per field (each of which scans the element's text again): PostgreSQL's CPU per
-- job stored 14.0 -> 10.5 us on one connection (9 runs), 14.0 -> 12.5 with two in flight
-- (bench/postgres/sql-variants.js, 7 runs; 20k jobs in 5,000-row statements, backend CPU
-- from /proc, machine load 3-5; at 6.5 the two were within the noise); same rows, same WAL.
-- An element is either a whole payload (stored as its text) or, for a narrow body (body.ts),
-- the fields read here plus `_narrow`, the rest of the payload: stored as `_` and its text.
-- $1 payloads json, $2 job text, $3 queue text, $4 priority int, $5 executions int,
-- $6 wake channel text, $7 status channel text (null: none)
-- A job id stored already is skipped (ON CONFLICT (id) DO NOTHING), neither stored again nor
-- announced: ids are UUIDv7 made by core, so a repeat is the same job sent again — the
-- outbox relay resends a batch it was killed before deleting (docs/architecture.md, "Enqueue
-- is idempotent by job id"). Its cost on this statement: bench/outbox/README.md.
-- "Due now" is against statement_timestamp(), not now(): inside the caller's transaction
-- now() is its BEGIN time, before the job's runAt, and the job would wake nobody.
-- Jobs of a batch are counted into it as in enqueue.sql (migration 019).
WITH inserted AS (
  INSERT INTO errand.jobs (id, job, queue, priority, run_at, state, body, executions, enqueued_at, batch_id)
  SELECT r.id, $2, $3, $4, r."runAt", 'available', CASE WHEN r._narrow IS NULL THEN p::text ELSE '_' || r._narrow::text END, $5, r."enqueuedAt",
         coalesce(r."batchId", CASE WHEN r.batch->'callback' IS NULL THEN (r.batch->>'id')::uuid END)
  FROM json_array_elements($1::json) AS p, json_to_record(p) AS r(id uuid, "runAt" timestamptz, "enqueuedAt" timestamptz, _narrow json, batch json, "batchId" uuid)
  ON CONFLICT (id) DO NOTHING
  RETURNING id, run_at, batch_id
),
woken AS (
  SELECT pg_notify($6, $3) WHERE EXISTS (SELECT 1 FROM inserted WHERE run_at <= statement_timestamp())
)
SELECT (SELECT count(*) FROM woken) AS woken, errand.notify_uuids($7, (SELECT array_agg(id) FROM inserted)) AS reported,
       errand.batch_enqueued((SELECT array_agg(batch_id) FROM inserted WHERE batch_id IS NOT NULL)) AS batched
