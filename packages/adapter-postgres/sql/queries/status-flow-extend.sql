-- StatusStoreFlow.extend: running jobs' slots end $3 ms from now; returns the ids extended.
-- A slot that ended (ends_at ≤ now, as acquire prunes them: another job may hold it now) or
-- was pruned is not taken again. Acquire deletes ended slots under row locks, so a renewal
-- and an acquire of one slot see each other: the one that waits re-checks the other's row.
-- $1 ids text[], $2 keys text[], $3 lease ms
UPDATE errand.store_flow_slots AS s SET ends_at = now() + $3 * interval '1 millisecond'
FROM unnest($1::text[], $2::text[]) AS e(id, key)
WHERE s.key = e.key AND s.id = e.id AND s.ends_at > now()
RETURNING s.id
