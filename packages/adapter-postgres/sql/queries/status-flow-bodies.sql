-- The bodies of jobs claimed through flow control (migration 015: a status keeps its body,
-- which store_flow_claim does not write). $1 ids text[], $2 bodies text[]
UPDATE errand.statuses AS s SET body = b.body
FROM unnest($1::text[], $2::text[]) AS b(id, body)
WHERE s.id = b.id AND s.finished_at IS NULL
