-- 015: the status store's operator side (PostgresStatusStore.control, for the SQS adapter:
-- core's adapter/status-store-control.ts). Unused by the PostgreSQL adapter itself.
--
-- `body`: the payload text the job's message carries, kept while the job lives (a listing
-- shows it, run-now sends it again), dropped when it succeeds.
--
-- Two listing indexes, on (state, queue, job, order): one zset per state, queue and class
-- on Redis. A listing finds the (queue, job) pairs of a state with a loose index scan (one
-- probe per pair) and merges each pair's first rows in its order, so a page costs
-- pairs × (log n + limit) whether it filters by queue, class, both or neither. Live rows are
-- ordered by run_at, finished ones by finished_at; both partial, so a row is in one of them.
-- A status write already rewrote every index of its row (state changes, no HOT update):
-- two indexes more per write, one of them partial away.
ALTER TABLE errand.statuses ADD COLUMN body text;
CREATE INDEX statuses_live_listing ON errand.statuses (state, queue, job, run_at, id)
  WHERE state IS NOT NULL AND finished_at IS NULL;
CREATE INDEX statuses_done_listing ON errand.statuses (state, queue, job, finished_at, id)
  WHERE state IS NOT NULL AND finished_at IS NOT NULL;

-- Void marks: the copies of a job's message that must not run. `run_ats` holds the runAt
-- texts of superseded copies (run now: the delayed copy replaced by one with no delay; a body
-- is the same text wherever it goes, and a retry's carries its new run time), '*' for a
-- cancelled job (no copy runs). Kept until the job's run time (or now) plus 14 days (SQS's
-- longest retention), shortened to a finished status's retention once a void copy came;
-- expired rows are deleted by later cancels, 100 at a time.
CREATE TABLE errand.status_voids (
  id text PRIMARY KEY,
  run_ats text[] NOT NULL,
  expires_at timestamptz NOT NULL
);

-- The operator's records (what the Redis store keeps under {<prefix>}:c:): abort marks (the
-- lease of the run to abort), paused queues, worker beats, runs finished per queue and minute.
-- Prefixed status_ so they never meet the PostgreSQL adapter's own tables in a shared schema.
CREATE TABLE errand.status_aborts (
  id text PRIMARY KEY,
  lease text NOT NULL,
  asked_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE errand.status_paused (
  queue text PRIMARY KEY
);
CREATE TABLE errand.status_workers (
  id text PRIMARY KEY,
  record jsonb NOT NULL,
  -- A gone worker's record may go an hour after it should have beaten again.
  keep_until timestamptz NOT NULL
);
CREATE TABLE errand.status_throughput (
  queue text NOT NULL,
  -- UTC minutes since the epoch.
  minute bigint NOT NULL,
  succeeded bigint NOT NULL DEFAULT 0,
  failed bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (queue, minute)
);
-- Minutes older than a day (the longest throughput asked for) go at the beats.
CREATE INDEX status_throughput_minute ON errand.status_throughput (minute);
