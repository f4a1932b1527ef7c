-- Deletes dead jobs. Returns how many (`deleted`); their ids are NOTIFYed on the status
-- channel (migration 005): their status reads as unknown from now on.
-- $1 ids uuid[], $2 status channel text (null: none)
WITH purged AS (
  DELETE FROM errand.jobs WHERE dead_at IS NOT NULL AND state = 'dead' AND id = ANY($1::uuid[])
  RETURNING id
)
SELECT count(*) AS deleted, errand.notify_uuids($2, array_agg(id)) AS reported FROM purged
