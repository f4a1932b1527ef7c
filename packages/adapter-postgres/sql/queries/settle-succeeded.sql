-- settle.sql for the usual batch in which every job succeeded: ids, lease tokens and
-- results only, as one json parameter ([[id, token, result], ...]), which the client
-- stringifies at once (pg escaped three arrays into literals element by element).
-- A row whose lease token no longer matches is left alone, as in settle.sql.
-- Not a named (prepared) statement: generic plans of such joins were 2.4x slower.
-- It changes no indexed column (the job keeps its lease token, migration 010): a HOT update.
-- The settled ids are NOTIFYed on the status channel (migration 005).
-- A settled holder of a concurrency slot frees it: its slot goes, and flow_release
-- (007, 010) un-parks one job of its key per holder (not called if none had a key).
-- $1 settlements json, $2 status channel text (null: none), $3 wake channel text
WITH settled AS (
UPDATE errand.jobs AS jobs
SET state = 'succeeded', result = u.result, finished_at = now(), updated_at = now()
FROM (SELECT (e->>0)::uuid AS id, (e->>1)::bigint AS token, e->>2 AS result FROM json_array_elements($1::json) AS e) AS u
WHERE jobs.id = u.id AND jobs.lease_token = u.token AND jobs.state = 'running'
RETURNING jobs.id, jobs.concurrency_key, jobs.batch_id
),
freed AS (
  DELETE FROM errand.slots AS s USING settled WHERE s.key = settled.concurrency_key AND s.job_id = settled.id
)
-- A job of a batch (batch_id, migration 019) is counted into it, in this statement's
-- transaction (batch_settled, not called when no settled job has a batch: STRICT). Comments
-- go here, not above: pg_stat_activity shows the first 1,024 bytes of a statement, and the
-- deadlock test finds the statement by its schema's name there.
SELECT errand.notify_uuids($2, array_agg(id)) AS reported,
       errand.flow_release(array_agg(concurrency_key) FILTER (WHERE concurrency_key IS NOT NULL), $3, coalesce($2, '')) AS unparked,
       errand.batch_settled(array_agg(batch_id) FILTER (WHERE batch_id IS NOT NULL), array_agg('s'::"char") FILTER (WHERE batch_id IS NOT NULL),
                            $3, coalesce($2, '')) AS batched
FROM settled
