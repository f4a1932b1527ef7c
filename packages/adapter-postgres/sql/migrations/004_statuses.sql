-- 004: job statuses for a backend that keeps none (the SQS adapter's status store,
-- PostgresStatusStore). Unused by the PostgreSQL adapter itself, whose jobs table is the status.
--
-- One row per job. `state` is NULL on a row that only holds a lease: a delivery of a job
-- this table never recorded (its status expired, or was written before the store was used),
-- kept so that the delivery before it reads as stale. `lease` is the current delivery's token
-- (for SQS, the receipt handle); settling matches on it in the same statement.
-- `expires_at` is set on finished rows and lease-only rows, NULL while a job is live: such
-- rows read as absent once it has passed, and are deleted in bounded steps by later settles.

CREATE TABLE errand.statuses (
  -- text, not uuid: ids come from message bodies, which need not be Errand's UUIDv7s.
  id text PRIMARY KEY,
  job text,
  queue text,
  priority integer,
  state text CHECK (state IN ('scheduled', 'queued', 'running', 'succeeded', 'retrying', 'failed', 'dead')),
  executions integer NOT NULL DEFAULT 0,
  progress jsonb,
  result text,
  error jsonb,
  enqueued_at timestamptz,
  run_at timestamptz,
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  lease text,
  expires_at timestamptz,
  CHECK (state IS NULL OR (job IS NOT NULL AND queue IS NOT NULL AND priority IS NOT NULL AND enqueued_at IS NOT NULL AND run_at IS NOT NULL))
);

-- Expired rows, oldest first, for the bounded deletes; live rows stay out of the index.
CREATE INDEX statuses_expiring ON errand.statuses (expires_at) WHERE expires_at IS NOT NULL;
