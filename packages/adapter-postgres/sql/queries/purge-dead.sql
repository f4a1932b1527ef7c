-- Deletes dead jobs. $1 ids uuid[]
DELETE FROM errand.jobs WHERE state = 'dead' AND id = ANY($1::uuid[])
