-- Leases up to $2 ready jobs from the queues in $1, tried in that order; within a queue,
-- lowest priority first, then oldest. SKIP LOCKED lets concurrent workers take different rows.
-- The statement lives in migration 002 (a function, so its plan is fixed and cached).
-- The reserved ids are NOTIFYed on the status channel, as in reserve-any.sql.
-- $1 queues text[], $2 max int, $3 lease ms, $4 worker id, $5 status channel text (null: none)
WITH reserved AS MATERIALIZED (SELECT * FROM errand.reserve_queues($1, $2, $3, $4)),
reported AS MATERIALIZED (SELECT errand.notify_uuids($5, (SELECT array_agg(id) FROM reserved)) AS n)
SELECT reserved.* FROM reserved CROSS JOIN reported
