-- The upkeep's safety sweep over keys with parked jobs (flow_sweep, migration 006).
-- Returns the key to start after next time (null: from the first).
-- $1 start after this key (null: first), $2 most keys, $3 wake channel text, $4 status channel text (null: none)
SELECT errand.flow_sweep($1, $2, $3, $4) AS next
