-- Pauses ($2 true) or resumes ($2 false) queues for every worker (migration 015). $1 queues text[], $2 paused boolean
WITH paused AS (
  INSERT INTO errand.status_paused (queue) SELECT DISTINCT unnest($1::text[]) WHERE $2 ON CONFLICT DO NOTHING
)
DELETE FROM errand.status_paused WHERE NOT $2 AND queue = ANY($1::text[])
