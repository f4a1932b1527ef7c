-- StatusStoreFlow.confirm: the pending sends the backend now holds go. $1 ids text[], $2 tokens text[]
DELETE FROM errand.store_flow_pending AS p
USING unnest($1::text[], $2::text[]) AS c(id, token)
WHERE p.id = c.id AND p.token = c.token
