-- StatusStoreFlow.extend: running jobs' slots end $3 ms from now (a slot pruned since is not taken again). $1 ids text[], $2 keys text[], $3 lease ms
UPDATE errand.store_flow_slots AS s SET ends_at = now() + $3 * interval '1 millisecond'
FROM unnest($1::text[], $2::text[]) AS e(id, key)
WHERE s.key = e.key AND s.id = e.id
