-- Makes jobs due at $4 with their payloads written whole (a payload's runAt moves with the
-- row, body.ts), if nothing changed them since they were read ($3: updated_at in µs since the epoch). Ready again
-- (lease_token NULL), the reserve's indexes find them; their queues are woken and their ids
-- NOTIFYed. A retrying job made due reads as queued, as on every backend: its status drops
-- the last run's error, which its payload's `attempts` keep (core appends each failed run). $1 ids uuid[], $2 bodies text[], $3 versions int8[], $4 now,
-- $5 wake channel, $6 status channel (null: none)
WITH moved AS (
  UPDATE errand.jobs AS j SET run_at = $4::timestamptz, body = u.body, lease_token = NULL, error = NULL, updated_at = now()
  FROM unnest($1::uuid[], $2::text[], $3::int8[]) AS u(id, body, version)
  WHERE j.id = u.id AND (extract(epoch FROM j.updated_at) * 1000000)::int8 = u.version AND j.state = 'available' AND NOT j.deferred
  RETURNING j.id, j.queue
)
SELECT array_agg(m.id) AS ids, errand.notify_uuids($6, array_agg(m.id)) AS reported,
       (SELECT count(pg_notify($5, q)) FROM (SELECT DISTINCT m2.queue AS q FROM moved AS m2) AS w) AS woken
FROM moved AS m
