-- Pushes out the leases still held; returns the ids that were (the others were lost). A
-- holder of a concurrency slot past its deadline is lost too (migration 009).
-- $1 ids uuid[], $2 tokens bigint[], $3 lease ms
SELECT out_id AS id FROM errand.extend_leases($1::uuid[], $2::bigint[], $3::integer)
