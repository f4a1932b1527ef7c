-- StatusStoreFlow.undo (migration 008). $1 ids text[], $2 tokens text[], $3 taken bigint[], $4 channel
SELECT errand.store_flow_undo($1::text[], $2::text[], $3::bigint[], $4::text) AS undone
