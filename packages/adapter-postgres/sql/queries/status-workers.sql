-- Worker records kept (migration 015): those whose hour past their ttl has not run out, by id.
SELECT record FROM errand.status_workers WHERE keep_until > now() ORDER BY id
