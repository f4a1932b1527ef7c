-- Rows waiting in the outbox (tests, benches, health checks).
SELECT count(*) AS n FROM errand.outbox
