-- 012: scheduled jobs out of the ready indexes (issue 14).
--
-- Up to 011 every available job, due or not, had lease_token NULL and sat in jobs_ready
-- (priority, run_at, seq) and jobs_ready_by_queue. The reserve walks those in priority order
-- with `run_at <= now()` as a filter: it stops early only once it has found as many due jobs
-- as it asked for, else it walks every not-yet-due entry behind them. The soak bench
-- (bench/soak) measured a drain 78 % slower with 1M scheduled jobs in the table.
--
-- Now a job whose run_at is ahead (scheduled at enqueue, a retry with backoff, a rate-limit
-- deferral, a job un-parked before its time) has lease_token −2 (`scheduled`) and sits only
-- in jobs_scheduled (run_at) WHERE lease_token = −2. The reserve functions first promote due
-- ones to ready (lease_token NULL), oldest first, at most 1,000 per call, skipping rows
-- others hold (promote_due): one probe of jobs_scheduled when nothing is due. The ready
-- indexes then hold due jobs only, and a promoted job orders by (priority, run_at, seq) as
-- before. Statuses and counts are unchanged: they read `state`, `run_at`, `error` and
-- `deferred`, never the token. A job becoming due is found by the next reserve, as before
-- (a waiting reserve polls at least every `leaseCheckMs`).
--
-- Every write that leaves a job available with a later run_at gets the token from one place,
-- the trigger jobs_scheduled_token (BEFORE INSERT, or UPDATE OF lease_token, run_at, state;
-- its WHEN clause is evaluated without calling the function, so a due insert, a reserve, a
-- settle or a renewal pay nothing): enqueue.sql, enqueue-uniform.sql, enqueue_flow (006),
-- settle.sql's retry, flow_admit's deferral, the un-parking functions. A scheduled job pays
-- one PL/pgSQL call: 1.5–2.1 µs (EXPLAIN ANALYZE of an INSERT of 20k: 29–42 ms of 383–523).
--
-- Bounded promotion: when more than 1,000 jobs come due at once, a reserve may pick a
-- promoted job of lower priority before a due one not yet promoted (it is promoted by the
-- next reserve). The flow sweep counts a key's ready jobs without the due-but-unpromoted
-- ones; an un-park beyond the limit is parked again by flow_admit at reserve.
--
-- Measured (bench/postgres/README.md has the method): a reserve of 1,000 with 100 jobs ready
-- and 200,000 scheduled, one warm session, medians of 20:
--   reserve_any:    before 993 buffers of jobs_ready walked, 6.3 ms;  now 5 + a 3-buffer
--                   probe of jobs_scheduled, 0.27 ms.
--   reserve_queues: before 898 buffers of jobs_ready_by_queue, 12.2 ms;  now 10 + 3, 0.20 ms.
-- The probe when nothing is due: 58 µs of server time (as a LANGUAGE sql function, planned
-- again at every call: 0.8–1.8 ms). WAL per scheduled job (EXPLAIN (ANALYZE, WAL), 20k):
-- enqueue 603 → 509 B (one index entry instead of two), promotion +424 B (a non-HOT update),
-- reserve 284 → 277 B: 887 → 1,210 B in all. A job due at enqueue pays nothing more.
-- With 1,000,000 scheduled (load 6 on the 2 shared cores, so times are rough; buffers are not):
--   reserve_any: before the pick locked 100 rows after 5,033 buffers, the call 6,260 buffers,
--   22–54 ms;  now 106 and 1,464 buffers, 1.9–4.6 ms (the rest is updating the 100 rows).
--
-- Existing rows are converted below, in the migration's transaction.

CREATE FUNCTION errand.scheduled_token() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.lease_token := -2;
  RETURN NEW;
END
$$;

CREATE TRIGGER jobs_scheduled_token
BEFORE INSERT OR UPDATE OF lease_token, run_at, state ON errand.jobs
FOR EACH ROW
WHEN (NEW.lease_token IS NULL AND NEW.state = 'available' AND NEW.run_at > now())
EXECUTE FUNCTION errand.scheduled_token();

UPDATE errand.jobs SET lease_token = -2 WHERE lease_token IS NULL AND state = 'available' AND run_at > now();

CREATE INDEX jobs_scheduled ON errand.jobs (run_at) WHERE lease_token = -2;

-- Makes up to p_max due scheduled jobs ready, oldest first; returns how many. PL/pgSQL, so
-- that its plan is cached per connection: as a LANGUAGE sql function it was planned again at
-- every call (0.8–1.8 ms a reserve, for a 3-buffer probe).
CREATE FUNCTION errand.promote_due(p_max integer) RETURNS integer
LANGUAGE plpgsql
SET enable_bitmapscan = off
SET enable_sort = off
AS $$
DECLARE
  v_count integer;
BEGIN
  UPDATE errand.jobs AS j SET lease_token = NULL
  WHERE j.lease_token = -2 AND j.id IN (
    SELECT d.id FROM errand.jobs AS d
    WHERE d.lease_token = -2 AND d.run_at <= now()
    ORDER BY d.run_at
    LIMIT p_max
    FOR UPDATE SKIP LOCKED);
  GET DIAGNOSTICS v_count = ROW_COUNT;
  RETURN v_count;
END
$$;

-- ---- reserve: 010's functions, promoting due jobs first -----------------------------------

CREATE OR REPLACE FUNCTION errand.reserve_any(p_max integer, p_lease_ms integer, p_worker text)
RETURNS TABLE (id uuid, body text, lease_token bigint, executions integer, ord bigint, priority integer, run_at timestamptz, seq bigint, gated boolean, flow jsonb)
LANGUAGE plpgsql
SET enable_bitmapscan = off
SET enable_sort = off
AS $$
#variable_conflict use_column
DECLARE
  v_token bigint := nextval('errand.lease_tokens');
  v_until timestamptz := now() + p_lease_ms * interval '1 millisecond';
BEGIN
  PERFORM errand.promote_due(1000);
  RETURN QUERY
  WITH picked AS (
    SELECT j.id, j.priority, j.run_at, j.seq, j.flow IS NOT NULL AS gated, j.flow FROM errand.jobs AS j
    WHERE j.lease_token IS NULL AND j.run_at <= now()
    ORDER BY j.priority, j.run_at, j.seq
    LIMIT p_max
    FOR UPDATE SKIP LOCKED
  ),
  leased AS (
    UPDATE errand.jobs AS jobs
    SET state = 'running', lease_token = v_token, lease_until = v_until, worker_id = p_worker,
        executions = jobs.executions + 1, started_at = now(), updated_at = now()
    FROM picked
    WHERE jobs.id = picked.id AND NOT picked.gated
    RETURNING jobs.id, jobs.body, jobs.lease_token, jobs.executions, 1::bigint, jobs.priority, jobs.run_at, jobs.seq, false, NULL::jsonb
  ),
  batch AS (
    INSERT INTO errand.batches (token, worker_id, lease_until, jobs, ids)
    SELECT v_token, p_worker, v_until, count(*), array_agg(leased.id) FROM leased HAVING count(*) > 0
  )
  SELECT * FROM leased
  UNION ALL
  SELECT picked.id, NULL::text, NULL::bigint, NULL::integer, 1::bigint, picked.priority, picked.run_at, picked.seq, true, picked.flow
  FROM picked WHERE picked.gated;
END
$$;

CREATE OR REPLACE FUNCTION errand.reserve_queues(p_queues text[], p_max integer, p_lease_ms integer, p_worker text)
RETURNS TABLE (id uuid, body text, lease_token bigint, executions integer, ord bigint, priority integer, run_at timestamptz, seq bigint, gated boolean, flow jsonb)
LANGUAGE plpgsql
SET enable_bitmapscan = off
SET enable_sort = off
AS $$
#variable_conflict use_column
DECLARE
  v_token bigint := nextval('errand.lease_tokens');
  v_until timestamptz := now() + p_lease_ms * interval '1 millisecond';
BEGIN
  PERFORM errand.promote_due(1000);
  RETURN QUERY
  WITH picked AS (
    SELECT j.id, q.ord, j.priority, j.run_at, j.seq, j.gated, j.flow
    FROM unnest(p_queues) WITH ORDINALITY AS q(name, ord)
    CROSS JOIN LATERAL (
      SELECT jobs.id, jobs.priority, jobs.run_at, jobs.seq, jobs.flow IS NOT NULL AS gated, jobs.flow FROM errand.jobs AS jobs
      WHERE jobs.lease_token IS NULL AND jobs.queue = q.name AND jobs.run_at <= now()
      ORDER BY jobs.priority, jobs.run_at, jobs.seq
      LIMIT p_max
      FOR UPDATE SKIP LOCKED
    ) AS j
    ORDER BY q.ord
    LIMIT p_max
  ),
  leased AS (
    UPDATE errand.jobs AS jobs
    SET state = 'running', lease_token = v_token, lease_until = v_until, worker_id = p_worker,
        executions = jobs.executions + 1, started_at = now(), updated_at = now()
    FROM picked
    WHERE jobs.id = picked.id AND NOT picked.gated
    RETURNING jobs.id, jobs.body, jobs.lease_token, jobs.executions, picked.ord, jobs.priority, jobs.run_at, jobs.seq, false, NULL::jsonb
  ),
  batch AS (
    INSERT INTO errand.batches (token, worker_id, lease_until, jobs, ids)
    SELECT v_token, p_worker, v_until, count(*), array_agg(leased.id) FROM leased HAVING count(*) > 0
  )
  SELECT * FROM leased
  UNION ALL
  SELECT picked.id, NULL::text, NULL::bigint, NULL::integer, picked.ord, picked.priority, picked.run_at, picked.seq, true, picked.flow
  FROM picked WHERE picked.gated;
END
$$;
