-- Leases up to $1 ready jobs from every queue: lowest priority first, then oldest.
-- The statement lives in migration 002 (a function, so its plan is fixed and cached).
-- The reserved ids are NOTIFYed on the status channel (migration 005): `reported` is
-- materialized and joined, so it runs once, after the reserve, when a job was reserved.
-- $1 max int, $2 lease ms, $3 worker id, $4 status channel text (null: none)
WITH reserved AS MATERIALIZED (SELECT * FROM errand.reserve_any($1, $2, $3)),
reported AS MATERIALIZED (SELECT errand.notify_uuids($4, (SELECT array_agg(id) FROM reserved)) AS n)
SELECT reserved.* FROM reserved CROSS JOIN reported
