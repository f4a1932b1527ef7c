-- StatusStoreFlow.counts: parked jobs, and deferred ones whose time is ahead, per queue. $1 queues text[]
SELECT q.queue,
       (SELECT count(*) FROM errand.store_flow_parked AS p WHERE p.queue = q.queue)::int AS parked,
       (SELECT count(*) FROM errand.store_flow_deferred AS d WHERE d.queue = q.queue AND d.until > now())::int AS deferred
FROM unnest($1::text[]) AS q(queue)
