-- Leases up to $2 ready jobs from the queues in $1, tried in that order; within a queue,
-- lowest priority first, then oldest. SKIP LOCKED lets concurrent workers take different rows.
-- The statement lives in migrations 002/006 (a function, so its plan is fixed and cached).
-- The reserved ids are NOTIFYed on the status channel, and jobs with flow limits go through
-- flow_admit, as in reserve-any.sql, and the rows come back in picking order.
-- $1 queues text[], $2 max int, $3 lease ms, $4 worker id, $5 status channel text (null: none)
WITH reserved AS MATERIALIZED (SELECT * FROM errand.reserve_queues($1, $2, $3, $4)),
reported AS MATERIALIZED (SELECT errand.notify_uuids($5, (SELECT array_agg(id) FROM reserved WHERE NOT gated)) AS n),
admitted AS MATERIALIZED (
  SELECT a.id, a.body, a.lease_token, a.executions, r.ord, r.priority, r.run_at, r.seq
  FROM errand.flow_admit((SELECT array_agg(id ORDER BY ord, priority, run_at, seq) FROM reserved WHERE gated),
    (SELECT array_agg(flow ORDER BY ord, priority, run_at, seq) FROM reserved WHERE gated), $3, $4, coalesce($5, '')) AS a
  JOIN reserved AS r ON r.id = a.id
)
SELECT r.id, r.body, r.lease_token, r.executions, r.priority,
       CASE WHEN left(r.body, 1) = '_' THEN (extract(epoch FROM r.run_at) * 1000)::int8 END AS run_ms FROM (
  SELECT reserved.id, reserved.body, reserved.lease_token, reserved.executions, reserved.ord, reserved.priority, reserved.run_at, reserved.seq
  FROM reserved CROSS JOIN reported WHERE NOT reserved.gated
  UNION ALL
  SELECT * FROM admitted
) AS r
ORDER BY r.ord, r.priority, r.run_at, r.seq
