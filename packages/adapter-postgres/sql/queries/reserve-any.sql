-- Leases up to $1 ready jobs from every queue: lowest priority first, then oldest.
-- The statement lives in migration 002 (a function, so its plan is fixed and cached).
-- $1 max int, $2 lease ms, $3 worker id
SELECT * FROM errand.reserve_any($1, $2, $3)
