-- A worker's beat (errand.heartbeat, migrations 014 and 021). $1 worker id, $2 record jsonb, $3 at,
-- $4 ttl ms, $5 stopping, $6 minute, $7 queues text[], $8 succeeded int8[], $9 failed int8[],
-- $10 running job ids uuid[]
SELECT paused, abort, interrupt FROM errand.heartbeat($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
