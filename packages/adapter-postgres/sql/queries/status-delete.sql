-- Forgets jobs (purged from the backend). $1 ids text[]
DELETE FROM errand.statuses WHERE id = ANY($1::text[])
