-- Worker records kept (live or gone), by id.
SELECT record, last_beat_at, ttl_ms FROM errand.workers WHERE kept_until > now() ORDER BY id
