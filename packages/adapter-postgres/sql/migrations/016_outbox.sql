-- 016: the transactional outbox (PostgresOutbox, issue 16). Jobs made inside the app's
-- transaction for an adapter that cannot join it (Redis, SQS) are written here in that
-- transaction; a relay (`errand relay`, or beside `errand work`) sends them to their adapter
-- and deletes them. Unused by the PostgreSQL adapter itself.
--
-- `seq` orders the rows: the relay sends the oldest first, so jobs of a queue reach their
-- target in the order they were written (within a transaction, and across transactions one
-- of which committed before the other began). `adapter` is NULL for the default adapter.
-- `body` is the payload in the wire format (wire-format.ts). No index but the key: the relay
-- reads the head of the table (ORDER BY seq LIMIT n) and deletes by seq.
CREATE TABLE errand.outbox (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  adapter text,
  queue text NOT NULL,
  job_id text NOT NULL,
  body text NOT NULL,
  written_at timestamptz NOT NULL DEFAULT now()
);
