-- StatusStoreBatches.seal (migration 020). $1 ids text[], $2 ttl ms of a finished status,
-- $3 ttl ms of a dead status, $4 channel text. `sends`: the callbacks' pending sends (JSON array).
SELECT errand.store_batch_seal($1::text[], $2::bigint, $3::bigint, $4::text) AS sends
