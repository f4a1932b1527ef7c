-- StatusStoreFlow.release (migration 008): the parked jobs let go. $1 ids text[], $2 concurrency keys text[]
SELECT o_id AS id, o_token AS token, o_queue AS queue, o_body AS body, o_run_at AS run_at, o_taken AS taken
FROM errand.store_flow_release($1::text[], $2::text[])
