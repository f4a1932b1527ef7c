-- Leases up to $2 ready jobs from the queues in $1, tried in that order; within a queue,
-- lowest priority first, then oldest. SKIP LOCKED lets concurrent workers take different rows.
-- The statement lives in migration 002 (a function, so its plan is fixed and cached).
-- $1 queues text[], $2 max int, $3 lease ms, $4 worker id
SELECT * FROM errand.reserve_queues($1, $2, $3, $4)
