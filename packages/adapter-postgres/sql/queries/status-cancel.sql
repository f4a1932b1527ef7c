-- StatusStoreControl.cancel (migration 015): jobs recorded and not started (queued, scheduled,
-- retrying) become failed with the cancelled error and expire like any finished status; each
-- gets '*' in its void mark (no copy of it runs) until its run time (or now) plus $4 ms; one
-- parked by a concurrency key or deferred by a rate limit leaves those tables (migration 008),
-- so it no longer counts as queued. Expired void marks go, 100 per call. The cancelled ids
-- are returned and NOTIFYed (migration 005).
-- A job of a batch counts as discarded (migration 020); a batch that finishes so records its
-- callbacks as pending sends taken at 0, which the next sweep of any process hands out.
-- $1 ids text[], $2 error jsonb, $3 ttl ms of a finished status, $4 void mark retention ms, $5 channel text,
-- $6 ttl ms of a dead status
WITH cancelled AS (
  UPDATE errand.statuses AS s
  SET state = 'failed', error = $2, finished_at = now(), updated_at = now(),
      expires_at = now() + $3 * interval '1 millisecond'
  WHERE s.id = ANY($1::text[]) AND s.state IN ('queued', 'scheduled', 'retrying') AND s.finished_at IS NULL
  RETURNING s.id, s.run_at, s.batch_id
),
marked AS (
  INSERT INTO errand.status_voids AS v (id, run_ats, expires_at)
  SELECT id, '{*}', greatest(now(), run_at) + $4 * interval '1 millisecond' FROM cancelled
  ON CONFLICT (id) DO UPDATE SET run_ats = v.run_ats || excluded.run_ats, expires_at = greatest(v.expires_at, excluded.expires_at)
),
unparked AS (
  DELETE FROM errand.store_flow_parked WHERE id IN (SELECT id FROM cancelled)
),
undeferred AS (
  DELETE FROM errand.store_flow_deferred WHERE id IN (SELECT id FROM cancelled)
),
pruned AS (
  DELETE FROM errand.status_voids
  WHERE id IN (SELECT id FROM errand.status_voids WHERE expires_at <= now() LIMIT 100 FOR UPDATE SKIP LOCKED)
    AND expires_at <= now() AND NOT (id = ANY($1::text[]))
)
SELECT coalesce((SELECT array_agg(id) FROM cancelled), '{}') AS ids,
       errand.notify_ids($5, (SELECT array_agg(id) FROM cancelled)) AS reported,
       errand.store_batch_settled((SELECT array_agg(id) FROM cancelled WHERE batch_id IS NOT NULL),
                                  (SELECT array_agg(batch_id) FROM cancelled WHERE batch_id IS NOT NULL),
                                  (SELECT array_agg('failed'::text) FROM cancelled WHERE batch_id IS NOT NULL),
                                  $3::bigint, $6::bigint, $5::text, 0) AS sends
