-- StatusStoreFlow.claim (migration 008): one row per job, in order.
-- $1 ids, $2 job classes, $3 queues, $4 priorities, $5 executions, $6 enqueued_at, $7 run_at,
-- $8 bodies, $9 unique keys, $10 whiles, $11 forMs, $12 tasks, $13 ticks, $14 tokens, $15 channel
SELECT o_claimed AS claimed, o_job AS job, o_taken AS taken
FROM errand.store_flow_claim($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::timestamptz[], $7::timestamptz[],
                       $8::text[], $9::text[], $10::text[], $11::bigint[], $12::text[], $13::timestamptz[], $14::text[], $15::text)
