-- Marks running jobs for abort, naming the run (its lease token): a beat reads the mark only
-- while the job runs under that token. $1 ids uuid[]
INSERT INTO errand.abort_marks AS a (job_id, token, marked_at)
SELECT j.id, j.lease_token, now() FROM errand.jobs AS j WHERE j.id = ANY($1::uuid[]) AND j.state = 'running'
ON CONFLICT (job_id) DO UPDATE SET token = excluded.token, marked_at = excluded.marked_at
RETURNING a.job_id AS id
