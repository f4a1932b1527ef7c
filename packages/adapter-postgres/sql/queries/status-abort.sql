-- StatusStoreControl.abort (migration 015): running jobs with a lease are marked with the
-- lease of the run to abort; the ids marked are returned. $1 ids text[]
INSERT INTO errand.status_aborts (id, lease)
SELECT s.id, s.lease FROM errand.statuses AS s
WHERE s.id = ANY($1::text[]) AND s.state = 'running' AND s.finished_at IS NULL AND s.lease IS NOT NULL AND s.lease <> ''
ON CONFLICT (id) DO UPDATE SET lease = excluded.lease, asked_at = now()
RETURNING id
