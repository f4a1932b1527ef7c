-- StatusStoreFlow.sweep (migration 008). $1 claim timeout ms, $2 most entries per part
SELECT o_id AS id, o_token AS token, o_queue AS queue, o_body AS body, o_run_at AS run_at, o_taken AS taken
FROM errand.store_flow_sweep($1::bigint, $2::int)
