-- Rows the relay sent (or found damaged): gone once their adapter stored them.
-- $1 seqs bigint[]
DELETE FROM errand.outbox WHERE seq = ANY($1::bigint[])
