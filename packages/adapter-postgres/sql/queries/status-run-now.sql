-- StatusStoreControl.runNow (migration 015), after the adapter sent each job again with no
-- delay: every recorded job's void mark gets the superseded runAt text (copies carrying it do
-- not run), kept until its run time (or now) plus $4 ms; a job still scheduled or retrying
-- becomes queued, run_at now, its body the one sent. The ids moved are NOTIFYed (migration 005).
-- $1 ids text[], $2 superseded runAt texts text[], $3 bodies text[], $4 void mark retention ms, $5 channel text
WITH r AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS r(id, superseded, body)
),
marked AS (
  INSERT INTO errand.status_voids AS v (id, run_ats, expires_at)
  SELECT r.id, ARRAY[r.superseded], greatest(now(), s.run_at) + $4 * interval '1 millisecond'
  FROM r JOIN errand.statuses AS s ON s.id = r.id AND s.state IS NOT NULL
  ON CONFLICT (id) DO UPDATE SET run_ats = v.run_ats || excluded.run_ats, expires_at = greatest(v.expires_at, excluded.expires_at)
),
moved AS (
  UPDATE errand.statuses AS s SET state = 'queued', run_at = now(), body = r.body, updated_at = now()
  FROM r WHERE s.id = r.id AND s.state IN ('scheduled', 'retrying') AND s.finished_at IS NULL
  RETURNING s.id
)
SELECT errand.notify_ids($5, (SELECT array_agg(id) FROM moved)) AS reported
