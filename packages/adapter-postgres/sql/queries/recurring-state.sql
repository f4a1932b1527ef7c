-- The last tick stored per recurring task. $1 tasks text[]
SELECT task, last_tick, job_id FROM errand.recurring WHERE task = ANY($1::text[])
