-- Marks running jobs for an abort or an interrupt, naming the run (its lease token): a beat
-- reads the mark only while the job runs under that token. A mark keeps its kind: an abort
-- replaces any mark, an interrupt any but an abort of the same run (migration 021).
-- $1 ids uuid[], $2 kind ('abort' or 'interrupt')
INSERT INTO errand.abort_marks AS a (job_id, token, marked_at, kind)
SELECT j.id, j.lease_token, now(), $2::text FROM errand.jobs AS j WHERE j.id = ANY($1::uuid[]) AND j.state = 'running'
ON CONFLICT (job_id) DO UPDATE SET token = excluded.token, marked_at = excluded.marked_at,
  kind = CASE WHEN a.token = excluded.token AND a.kind = 'abort' THEN 'abort' ELSE excluded.kind END
RETURNING a.job_id AS id
