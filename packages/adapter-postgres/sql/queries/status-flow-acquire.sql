-- StatusStoreFlow.acquire (migration 008): one row per delivery, in order.
-- $1 ids, $2 lease ms, $3 message ids, $4 queues, $5 bodies, $6 concurrency keys, $7 limits,
-- $8 rate keys, $9 limits, $10 perMs, $11 channel
SELECT o_outcome AS outcome, o_until AS until
FROM errand.store_flow_acquire($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
                         $8::text[], $9::int[], $10::bigint[], $11::text)
