-- 014: the operator's contract (issue 15): counts per queue and state without a scan, the
-- waiting jobs a ready index does not hold, paused queues, worker heartbeats, abort marks and
-- throughput per minute.
--
-- Counts. `listQueues` needs, per queue, how many jobs are queued, scheduled, running,
-- retrying, dead, succeeded and failed. A count(*) … GROUP BY over the table read every row:
-- 303–703 ms with 1,000,000 jobs stored (first attempt, load 3–6 on the 2 shared cores). No
-- index can count them instead: settle must stay a HOT update (010), so no index may name
-- `state`, `finished_at` or `result`. So the table keeps its counts itself, as a log:
--
-- - `queue_counts` holds rows (queue, kind, n) whose sums per (queue, kind) are the counts.
--   Statement-level AFTER triggers with transition tables add one row per (queue, kind) that
--   a statement changed (INSERT, UPDATE and DELETE of jobs), with the difference it made; an
--   UPDATE that changes no job's kind (a lease renewal, progress) adds nothing. Rows are only
--   ever inserted, so concurrent statements never wait on each other's counters.
-- - `fold_counts()` replaces the rows by their sums, in one statement: its DELETE … RETURNING
--   takes each row once, so two folds at once (or a fold beside any writer) neither lose nor
--   double a count. The retention step folds (upkeep.ts), and `listQueues` folds when it read
--   more than a few thousand rows, so the table stays at about one row per queue and kind.
-- - A job's kind depends on its row only, never on the clock: `q` queued (parked, deferred by
--   a rate limit, or ready), `S` waiting for its run time (lease_token −2, 012), `r` retrying,
--   `R` running, `s` succeeded, `f` failed, `d` dead. A job whose run time came while no
--   reserve promoted it yet is `S` but reads as queued: `listQueues` counts those in
--   `jobs_scheduled` (run_at <= now()), a range reserves keep short.
--
-- Cost on the drain path: the transition tables copy each changed row once more and the
-- trigger adds one INSERT per statement (not per job); see docs/architecture.md ("The
-- operator's contract on PostgreSQL") for the drain measured before and after.
--
-- Failed jobs get a list of their own, `failed_jobs` (id, queue, finished_at), kept by the
-- same triggers: a failed job is rare, and listing them by walking the batches read every
-- succeeded job's id. Succeeded jobs get none (a row per settle): see list_succeeded below.
--
-- Listing. Queued jobs are listed from three places in one order (queue, priority, run_at,
-- seq): the ready index (010), `jobs_held` below (parked jobs and rate-deferred ones, which
-- no other index orders by queue), and the due part of `jobs_scheduled`. `jobs_held` names no
-- column a settle, a renewal or progress changes, and holds only jobs flow control holds
-- back, so it costs the hot path nothing.
--
-- Control. `paused_queues`, `workers` (a record per worker, kept an hour past its ttl),
-- `abort_marks` (a job id and the lease token of the run it was asked for: the mark holds
-- while the job runs under that token, so settle never has to drop it), and `throughput`
-- (runs finished per queue per UTC minute, added up at each beat, kept 25 hours: read for
-- up to 1,440 minutes, as on the other backends).

-- ---- counts ----------------------------------------------------------------------------

CREATE TABLE errand.queue_counts (
  queue text NOT NULL,
  kind "char" NOT NULL,
  n bigint NOT NULL
);
ALTER TABLE errand.queue_counts SET (autovacuum_vacuum_cost_delay = 0);

-- Failed jobs (discarded, cancelled), newest finished first: the failed listing's order.
-- Kept by the triggers below, as the counts are: a failed job is rare, and no index on the
-- jobs table may name `state` or `finished_at` (010). Succeeded jobs have no such list: it
-- would cost every settle a row (see list-finished.sql for how they are listed).
CREATE TABLE errand.failed_jobs (
  id uuid PRIMARY KEY,
  queue text NOT NULL,
  finished_at timestamptz NOT NULL
);
CREATE INDEX failed_jobs_newest ON errand.failed_jobs (finished_at DESC, id DESC);
CREATE INDEX failed_jobs_queue ON errand.failed_jobs (queue, finished_at DESC, id DESC);

-- A job's kind (see the header). Inlined by the planner into the triggers' statements.
CREATE FUNCTION errand.job_kind(p_state text, p_deferred boolean, p_failed boolean, p_token bigint) RETURNS "char"
LANGUAGE sql IMMUTABLE AS $$
  SELECT (CASE p_state
    WHEN 'available' THEN CASE WHEN p_deferred THEN 'q' WHEN p_failed THEN 'r' WHEN p_token = -2 THEN 'S' ELSE 'q' END
    WHEN 'parked' THEN 'q'
    WHEN 'running' THEN 'R'
    WHEN 'succeeded' THEN 's'
    WHEN 'failed' THEN 'f'
    WHEN 'dead' THEN 'd' END)::"char"
$$;

CREATE FUNCTION errand.count_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO errand.queue_counts (queue, kind, n)
  SELECT c.queue, errand.job_kind(c.state, c.deferred, c.error IS NOT NULL, c.lease_token), count(*)
  FROM counted_new AS c GROUP BY 1, 2;
  RETURN NULL;
END
$$;

CREATE FUNCTION errand.count_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO errand.failed_jobs (id, queue, finished_at)
  SELECT w.id, w.queue, coalesce(w.finished_at, w.updated_at) FROM counted_new AS w WHERE w.state = 'failed'
  ON CONFLICT (id) DO NOTHING;
  INSERT INTO errand.queue_counts (queue, kind, n)
  SELECT c.queue, c.kind, sum(c.n) FROM (
    SELECT o.queue, errand.job_kind(o.state, o.deferred, o.error IS NOT NULL, o.lease_token) AS kind, -1 AS n FROM counted_old AS o
    UNION ALL
    SELECT w.queue, errand.job_kind(w.state, w.deferred, w.error IS NOT NULL, w.lease_token), 1 FROM counted_new AS w
  ) AS c
  GROUP BY 1, 2 HAVING sum(c.n) <> 0;
  RETURN NULL;
END
$$;

CREATE FUNCTION errand.count_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM errand.failed_jobs AS f USING counted_old AS o WHERE o.state = 'failed' AND f.id = o.id;
  INSERT INTO errand.queue_counts (queue, kind, n)
  SELECT c.queue, errand.job_kind(c.state, c.deferred, c.error IS NOT NULL, c.lease_token), -count(*)
  FROM counted_old AS c GROUP BY 1, 2;
  RETURN NULL;
END
$$;

CREATE TRIGGER jobs_count_inserted AFTER INSERT ON errand.jobs
REFERENCING NEW TABLE AS counted_new FOR EACH STATEMENT EXECUTE FUNCTION errand.count_inserted();
CREATE TRIGGER jobs_count_updated AFTER UPDATE ON errand.jobs
REFERENCING OLD TABLE AS counted_old NEW TABLE AS counted_new FOR EACH STATEMENT EXECUTE FUNCTION errand.count_updated();
CREATE TRIGGER jobs_count_deleted AFTER DELETE ON errand.jobs
REFERENCING OLD TABLE AS counted_old FOR EACH STATEMENT EXECUTE FUNCTION errand.count_deleted();

-- Replaces the count rows by their sums (see the header); answers how many rows it read.
CREATE FUNCTION errand.fold_counts() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_read bigint;
BEGIN
  WITH gone AS (DELETE FROM errand.queue_counts RETURNING queue, kind, n),
  folded AS (
    INSERT INTO errand.queue_counts (queue, kind, n)
    SELECT g.queue, g.kind, sum(g.n) FROM gone AS g GROUP BY 1, 2 HAVING sum(g.n) <> 0
  )
  SELECT count(*) INTO v_read FROM gone;
  RETURN v_read;
END
$$;

-- The counts of the jobs already stored. CREATE TRIGGER above holds a lock that keeps
-- writers out until this migration commits, so nothing is counted twice or missed.
INSERT INTO errand.queue_counts (queue, kind, n)
SELECT j.queue, errand.job_kind(j.state, j.deferred, j.error IS NOT NULL, j.lease_token), count(*)
FROM errand.jobs AS j GROUP BY 1, 2;

INSERT INTO errand.failed_jobs (id, queue, finished_at)
SELECT j.id, j.queue, coalesce(j.finished_at, j.updated_at) FROM errand.jobs AS j WHERE j.state = 'failed';

-- ---- listing -----------------------------------------------------------------------------

-- Jobs flow control holds back (parked by a concurrency limit, deferred by a rate limit),
-- in the queued listing's order.
CREATE INDEX jobs_held ON errand.jobs (queue, priority, run_at, seq) WHERE parked_seq IS NOT NULL OR deferred;

-- ---- control -----------------------------------------------------------------------------

CREATE TABLE errand.paused_queues (
  queue text PRIMARY KEY,
  paused_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE errand.workers (
  id text PRIMARY KEY,
  -- The worker's WorkerInfo as JSON (dates as ISO strings).
  record jsonb NOT NULL,
  last_beat_at timestamptz NOT NULL,
  ttl_ms integer NOT NULL,
  -- An hour past its ttl: then its record goes (the next beat of any worker deletes it).
  kept_until timestamptz NOT NULL
);

CREATE TABLE errand.abort_marks (
  job_id uuid PRIMARY KEY,
  -- The lease token of the run the mark was asked for.
  token bigint NOT NULL,
  marked_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE errand.throughput (
  queue text NOT NULL,
  -- UTC minutes since the epoch.
  minute integer NOT NULL,
  succeeded bigint NOT NULL DEFAULT 0,
  failed bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (queue, minute)
);
CREATE INDEX throughput_minute ON errand.throughput (minute);

-- A worker's beat: stores (or, stopping, removes) its record, adds its finished counts to the
-- minute, drops what has expired (workers an hour past their ttl, throughput older than 25
-- hours, marks older than an hour), and reads back the paused queues and the live marks of
-- the jobs it runs. The counts go in queue order, so two beats never wait on each other's
-- rows in a cycle.
CREATE FUNCTION errand.heartbeat(p_id text, p_record jsonb, p_at timestamptz, p_ttl_ms integer, p_stopping boolean,
                                 p_minute integer, p_queues text[], p_succeeded bigint[], p_failed bigint[], p_running uuid[])
RETURNS TABLE (paused text[], abort uuid[])
LANGUAGE plpgsql AS $$
BEGIN
  IF p_stopping THEN
    DELETE FROM errand.workers AS w WHERE w.id = p_id;
  ELSE
    INSERT INTO errand.workers AS w (id, record, last_beat_at, ttl_ms, kept_until)
    VALUES (p_id, p_record, p_at, p_ttl_ms, p_at + (p_ttl_ms * interval '1 millisecond') + interval '1 hour')
    ON CONFLICT (id) DO UPDATE SET record = excluded.record, last_beat_at = excluded.last_beat_at,
                                   ttl_ms = excluded.ttl_ms, kept_until = excluded.kept_until;
  END IF;
  IF cardinality(p_queues) > 0 THEN
    INSERT INTO errand.throughput AS t (queue, minute, succeeded, failed)
    SELECT c.queue, p_minute, sum(c.s), sum(c.f) FROM unnest(p_queues, p_succeeded, p_failed) AS c(queue, s, f)
    GROUP BY c.queue ORDER BY c.queue
    ON CONFLICT (queue, minute) DO UPDATE SET succeeded = t.succeeded + excluded.succeeded, failed = t.failed + excluded.failed;
  END IF;
  DELETE FROM errand.workers AS w WHERE w.kept_until < now();
  DELETE FROM errand.throughput AS t WHERE t.minute < p_minute - 1500;
  DELETE FROM errand.abort_marks AS a WHERE a.marked_at < now() - interval '1 hour';
  RETURN QUERY
  SELECT (SELECT coalesce(array_agg(p.queue ORDER BY p.queue), '{}') FROM errand.paused_queues AS p),
         (SELECT coalesce(array_agg(a.job_id), '{}') FROM errand.abort_marks AS a
          JOIN errand.jobs AS j ON j.id = a.job_id AND j.lease_token = a.token AND j.state = 'running'
          WHERE a.job_id = ANY (p_running));
END
$$;

-- Cancels jobs that have not started (available: queued, scheduled, retrying, deferred; or
-- parked): failed with p_error, finished now, in a closed batch of their own so retention
-- deletes them as any finished job (010). A unique key they held no longer blocks (a failed
-- holder never does, 006); a parked job held no slot. Answers the ids cancelled.
CREATE FUNCTION errand.cancel_jobs(p_ids uuid[], p_error jsonb, p_status text)
RETURNS TABLE (out_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
  v_token bigint := nextval('errand.lease_tokens');
  v_ids uuid[];
BEGIN
  WITH cancelled AS (
    UPDATE errand.jobs AS j
    SET state = 'failed', error = p_error, finished_at = now(), updated_at = now(), lease_token = v_token,
        lease_until = NULL, parked_seq = NULL, deferred = false
    WHERE j.id = ANY (p_ids) AND j.state IN ('available', 'parked')
    RETURNING j.id
  )
  SELECT array_agg(c.id) INTO v_ids FROM cancelled AS c;
  IF v_ids IS NULL THEN RETURN; END IF;
  INSERT INTO errand.batches (token, worker_id, lease_until, jobs, ids, open)
  VALUES (v_token, NULL, now(), cardinality(v_ids), v_ids, false);
  PERFORM errand.notify_uuids(p_status, v_ids);
  RETURN QUERY SELECT unnest(v_ids);
END
$$;

-- Succeeded jobs, newest reserve call first, then newest finished first within the call:
-- keys only, in order, for list-succeeded.sql. No index orders succeeded jobs by finish time
-- (settle must stay a HOT update, 010; a list like failed_jobs would cost every settle a
-- row): the batches (one per reserve call that leased jobs, tokens only growing) are walked
-- from the newest, and each one's succeeded jobs are reached by id and sorted. A job that ran
-- long is listed with the call that reserved it, behind jobs reserved after it that finished
-- before it. The walk stops once `p_rows` keys are out, or once the batches looked at held
-- `p_look` ids: it then answers a last row with `frontier` true, the key past which it did
-- not look (everything of that batch is behind it), so a page with filters that match few
-- jobs is short rather than long.
CREATE FUNCTION errand.list_succeeded(p_queue text, p_job text, p_token bigint, p_at timestamptz, p_id uuid, p_rows integer, p_look integer)
RETURNS TABLE (n integer, frontier boolean, token bigint, finished_at timestamptz, id uuid)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
  v_batch record;
  v_job record;
  v_left integer := p_rows;
  v_looked bigint := 0;
  v_n integer := 0;
BEGIN
  FOR v_batch IN SELECT b.token, b.ids FROM errand.batches AS b WHERE b.token <= p_token ORDER BY b.token DESC LOOP
    FOR v_job IN
      SELECT j.id, j.finished_at FROM unnest(v_batch.ids) AS x(id) JOIN errand.jobs AS j ON j.id = x.id
      WHERE j.lease_token = v_batch.token AND j.state = 'succeeded'
        AND (p_queue IS NULL OR j.queue = p_queue) AND (p_job IS NULL OR j.job = p_job)
        AND (v_batch.token, j.finished_at, j.id) < (p_token, p_at, p_id)
      ORDER BY j.finished_at DESC, j.id DESC LIMIT v_left
    LOOP
      v_n := v_n + 1;
      v_left := v_left - 1;
      RETURN QUERY SELECT v_n, false, v_batch.token, v_job.finished_at, v_job.id;
    END LOOP;
    IF v_left = 0 THEN RETURN; END IF;
    v_looked := v_looked + cardinality(v_batch.ids);
    IF v_looked >= p_look THEN
      RETURN QUERY SELECT v_n + 1, true, v_batch.token, '-infinity'::timestamptz, '00000000-0000-0000-0000-000000000000'::uuid;
      RETURN;
    END IF;
  END LOOP;
END
$$;
