-- Pauses queues ($1 text[]); pausing a paused queue changes nothing.
INSERT INTO errand.paused_queues (queue) SELECT DISTINCT unnest($1::text[]) ON CONFLICT (queue) DO NOTHING
