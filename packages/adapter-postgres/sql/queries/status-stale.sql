-- Of these deliveries, the ones whose lease is no longer current: the job has another lease
-- (it was delivered again since), or none and is finished (settled already). A job without
-- a row, or whose row expired, counts as current.
-- $1 ids text[], $2 leases text[]
SELECT l.id
FROM unnest($1::text[], $2::text[]) AS l(id, lease)
JOIN errand.statuses AS s ON s.id = l.id
WHERE (s.expires_at IS NULL OR s.expires_at > now())
  AND CASE WHEN s.lease IS NOT NULL THEN s.lease <> l.lease
           ELSE s.state IS NOT NULL AND s.finished_at IS NOT NULL END
