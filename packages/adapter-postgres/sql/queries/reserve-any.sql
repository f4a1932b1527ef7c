-- Leases up to $1 ready jobs from every queue: lowest priority first, then oldest.
-- The statement lives in migrations 002/006 (a function, so its plan is fixed and cached).
-- The reserved ids are NOTIFYed on the status channel (migration 005): `reported` is
-- materialized and joined, so it runs once, after the reserve, when a job was reserved.
-- Jobs with a concurrency or rate limit (`gated`) come back from the function picked but not
-- leased; flow_admit (migration 006), given their ids and flows, leases, parks or defers
-- them, in picking order, and is not called when none was picked. A parked or deferred job
-- comes back with a NULL token.
-- Rows come back in picking order (UPDATE … RETURNING does not keep it): sorting here costs
-- the server less than parsing run_at into a Date per row costs the client. A narrow body
-- (src/body.ts) comes with its priority and run_at in epoch ms, which the adapter puts back.
-- $1 max int, $2 lease ms, $3 worker id, $4 status channel text (null: none)
WITH reserved AS MATERIALIZED (SELECT * FROM errand.reserve_any($1, $2, $3)),
reported AS MATERIALIZED (SELECT errand.notify_uuids($4, (SELECT array_agg(id) FROM reserved WHERE NOT gated)) AS n),
admitted AS MATERIALIZED (
  SELECT a.id, a.body, a.lease_token, a.executions, r.ord, r.priority, r.run_at, r.seq
  FROM errand.flow_admit((SELECT array_agg(id ORDER BY ord, priority, run_at, seq) FROM reserved WHERE gated),
    (SELECT array_agg(flow ORDER BY ord, priority, run_at, seq) FROM reserved WHERE gated), $2, $3, coalesce($4, '')) AS a
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
