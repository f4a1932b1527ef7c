-- 001: the jobs table. Every job is one row from enqueue until retention deletes it.
-- `errand` is replaced by the configured schema (quoted) when the file is applied.
--
-- States: available (queued, scheduled or waiting for a retry: see run_at and error),
-- running (leased until lease_until by lease_token), succeeded, failed (discarded), dead.
-- Ready jobs are reached through small partial indexes that hold available rows only;
-- finished rows stay out of them and are deleted by retention.

CREATE TABLE errand.jobs (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  id uuid PRIMARY KEY,
  job text NOT NULL,
  queue text NOT NULL,
  priority integer NOT NULL DEFAULT 0,
  run_at timestamptz NOT NULL,
  state text NOT NULL CHECK (state IN ('available', 'running', 'succeeded', 'failed', 'dead')),
  -- The payload as stored: wire-format JSON text, readable in psql, kept verbatim even when malformed.
  body text NOT NULL,
  -- Runs started (status); the body's own "executions" counts runs started before a delivery.
  executions integer NOT NULL DEFAULT 0,
  lease_token bigint,
  lease_until timestamptz,
  worker_id text,
  progress jsonb,
  result text,
  error jsonb,
  enqueued_at timestamptz NOT NULL,
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Reserve from named queues in order: one index range per queue, lowest priority first, then oldest.
CREATE INDEX jobs_available_by_queue ON errand.jobs (queue, priority, run_at, seq) WHERE state = 'available';
-- Reserve from every queue ('*').
CREATE INDEX jobs_available ON errand.jobs (priority, run_at, seq) WHERE state = 'available';
-- Expired leases (a worker died).
CREATE INDEX jobs_running_lease ON errand.jobs (lease_until) WHERE state = 'running';
-- Retention of finished jobs, and the dead set newest first.
CREATE INDEX jobs_finished ON errand.jobs (finished_at, seq) WHERE state IN ('succeeded', 'failed');
CREATE INDEX jobs_dead ON errand.jobs (finished_at DESC, seq DESC) WHERE state = 'dead';

CREATE SEQUENCE errand.lease_tokens;
