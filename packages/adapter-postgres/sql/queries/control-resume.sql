-- Resumes queues ($1 text[]).
DELETE FROM errand.paused_queues WHERE queue = ANY($1::text[])
