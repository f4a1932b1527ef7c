-- StatusStoreControl.abort and .interrupt (migrations 015, 021): running jobs with a lease are
-- marked with the lease of the run and the mark's kind; the ids marked are returned. An abort
-- replaces any mark, an interrupt any but an abort of the same run. $1 ids text[], $2 kind
-- ('abort' or 'interrupt')
INSERT INTO errand.status_aborts AS a (id, lease, kind)
SELECT s.id, s.lease, $2::text FROM errand.statuses AS s
WHERE s.id = ANY($1::text[]) AND s.state = 'running' AND s.finished_at IS NULL AND s.lease IS NOT NULL AND s.lease <> ''
ON CONFLICT (id) DO UPDATE SET lease = excluded.lease, asked_at = now(),
  kind = CASE WHEN a.lease = excluded.lease AND a.kind = 'abort' THEN 'abort' ELSE excluded.kind END
RETURNING id
