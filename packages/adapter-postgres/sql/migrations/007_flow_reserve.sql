-- 007: flow control at reserve, settle and upkeep (issue 13): concurrency and rate limits.
-- The tables, the locks and the race they close are 006's (read its header first); this is
-- the reserve side: admitting, parking and deferring a batch, un-parking on settle and lease
-- expiry, the sweep, the reserve functions that hand gated jobs to flow_admit, retention.

-- ---- reserve: concurrency and rate limits ------------------------------------------------

-- Un-parks up to p_count parked jobs of a key, oldest parked first, skipping rows another
-- transaction holds (so a holder of the key's lock never waits for a row lock). The caller
-- holds the key's lock.
CREATE FUNCTION errand.flow_unpark(p_key text, p_count integer)
RETURNS TABLE (id uuid, queue text, due boolean)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  UPDATE errand.jobs AS j SET state = 'available', parked_seq = NULL
  WHERE j.state = 'parked' AND j.id IN (
    SELECT p.id FROM errand.jobs AS p
    WHERE p.state = 'parked' AND p.concurrency_key = p_key
    ORDER BY p.parked_seq LIMIT p_count
    FOR UPDATE SKIP LOCKED)
  RETURNING j.id, j.queue, j.run_at <= now();
END
$$;

-- flow_admit's decisions job by job, in the order given, for a batch the set-based form
-- cannot decide exactly (see flow_admit): the caller holds the keys' locks and gives the
-- clock it read after them (starts are recorded at that time).
CREATE FUNCTION errand.flow_admit_ordered(p_ids uuid[], p_lease_ms integer, p_worker text, p_now timestamptz)
RETURNS TABLE (id uuid, body text, lease_token bigint, executions integer, priority integer, run_at timestamptz, seq bigint)
LANGUAGE plpgsql STRICT AS $$
#variable_conflict use_column
DECLARE
  v_token bigint := nextval('errand.lease_tokens');
  v_job record;
  v_key text;
  v_limit integer;
  v_per interval;
  v_count integer;
  v_at timestamptz;
BEGIN
  FOR v_job IN
    SELECT j.id, j.flow FROM unnest(p_ids) WITH ORDINALITY AS g(id, n) JOIN errand.jobs AS j ON j.id = g.id ORDER BY g.n
  LOOP
    IF v_job.flow ? 'rateLimit' THEN
      v_key := v_job.flow->'rateLimit'->>'key';
      v_limit := (v_job.flow->'rateLimit'->>'limit')::integer;
      v_per := (v_job.flow->'rateLimit'->>'perMs')::bigint * interval '1 millisecond';
      DELETE FROM errand.rate_starts AS r WHERE r.key = v_key AND r.started_at <= p_now - v_per;
      SELECT count(*) INTO v_count FROM errand.rate_starts AS r WHERE r.key = v_key AND r.started_at > p_now - v_per;
      IF v_count >= v_limit THEN
        -- The limit-th newest start leaves the window first.
        SELECT r.started_at + v_per INTO v_at FROM errand.rate_starts AS r
        WHERE r.key = v_key AND r.started_at > p_now - v_per
        ORDER BY r.started_at DESC OFFSET v_limit - 1 LIMIT 1;
        UPDATE errand.jobs AS j SET run_at = v_at, deferred = true, updated_at = now() WHERE j.id = v_job.id;
        RETURN QUERY SELECT v_job.id, NULL::text, NULL::bigint, NULL::integer, NULL::integer, v_at, NULL::bigint;
        CONTINUE;
      END IF;
    END IF;
    IF v_job.flow ? 'concurrency' THEN
      -- The lease as a FILTER: see flow_admit.
      SELECT count(*) FILTER (WHERE h.lease_until > now()) INTO v_count FROM errand.jobs AS h
      WHERE h.concurrency_key = v_job.flow->'concurrency'->>'key' AND h.state = 'running';
      IF v_count >= (v_job.flow->'concurrency'->>'limit')::integer THEN
        UPDATE errand.jobs AS j SET state = 'parked', parked_seq = nextval('errand.parked_order') WHERE j.id = v_job.id;
        RETURN QUERY SELECT v_job.id, NULL::text, NULL::bigint, NULL::integer, NULL::integer, NULL::timestamptz, NULL::bigint;
        CONTINUE;
      END IF;
    END IF;
    RETURN QUERY
    UPDATE errand.jobs AS j
    SET state = 'running', lease_token = v_token, lease_until = now() + p_lease_ms * interval '1 millisecond',
        worker_id = p_worker, executions = j.executions + 1, started_at = now(), updated_at = now(), deferred = false
    WHERE j.id = v_job.id
    RETURNING j.id, j.body, j.lease_token, j.executions, j.priority, j.run_at, j.seq;
    IF v_job.flow ? 'rateLimit' THEN
      INSERT INTO errand.rate_starts (key, started_at, expires_at) VALUES (v_key, p_now, p_now + v_per);
    END IF;
  END LOOP;
END
$$;

-- Decides the gated jobs a reserve picked (and holds locked), given with their flows, in the order given: a job over
-- its rate limit is deferred (run_at moved to the first instant a start is allowed), one
-- whose concurrency key is full is parked, the others are leased and their starts recorded.
-- Returns one row per job: leased ones with their lease token, the others with NULL.
-- STRICT: a reserve that picked no gated job does not call it (p_status '' means none).
--
-- Set-based per batch: the batch's jobs are grouped by key, each key's live holders and
-- window starts are counted once, and the k-th job of a key (in the given order) is allowed
-- when count + k <= its limit. That is the in-order decision exactly when (a) the jobs of a
-- key carry one limit (and one perMs) within the batch and (b) no job carrying both a rate
-- and a concurrency key is turned away (turned away by one, it would not count against the
-- other; every other denial leaves its key full for the rest of the batch, as in order). A
-- batch failing (a) or (b) is decided job by job (flow_admit_ordered), under the same locks
-- and clock. The leased jobs take one UPDATE, their starts one INSERT, the parked and the
-- deferred one UPDATE each. Server CPU per drained job with 1,000 keys, no limit binding
-- (bench/flow/README.md, profile.js, single runs on a shared machine): concurrency 108–114
-- → 36–58.5, rate 111–113 → 44.5–62.5 µs (plain 22.5–33 in the same runs). In psql, a
-- batch of 700 concurrency-limited jobs: 17–32 → 12–20 ms (a plain reserve's UPDATE of
-- 700 rows alone: 11–17 ms).
CREATE FUNCTION errand.flow_admit(p_ids uuid[], p_flows jsonb[], p_lease_ms integer, p_worker text, p_status text)
RETURNS TABLE (id uuid, body text, lease_token bigint, executions integer, priority integer, run_at timestamptz, seq bigint)
LANGUAGE plpgsql STRICT
-- Index lookups per id and per key: joining ~700 ids to jobs, the planner preferred hashing
-- the whole table (a sequential scan of 40k rows: 24 ms per batch in psql, against 3.4 ms
-- by primary key); the UPDATEs below join the batch's ids to jobs the same way.
SET enable_seqscan = off
AS $$
#variable_conflict use_column
DECLARE
  v_token bigint := nextval('errand.lease_tokens');
  v_now timestamptz;
  v_ids uuid[];
  v_rk text[];
  v_rl integer[];
  v_rp bigint[];
  v_ck text[];
  v_cl integer[];
  v_locks text[];
  v_dec "char"[];
  v_exact boolean;
  v_parked boolean;
  v_deferred boolean;
BEGIN
  -- The batch's keys and limits, from the flows the reserve read as it picked (and locked)
  -- the rows: no second read of them (700 primary-key lookups per batch, ~3 ms in psql).
  SELECT p_ids, array_agg(b.f->'rateLimit'->>'key' ORDER BY b.n), array_agg((b.f->'rateLimit'->>'limit')::integer ORDER BY b.n),
         array_agg((b.f->'rateLimit'->>'perMs')::bigint ORDER BY b.n), array_agg(b.f->'concurrency'->>'key' ORDER BY b.n),
         array_agg((b.f->'concurrency'->>'limit')::integer ORDER BY b.n),
         array_agg('r:' || (b.f->'rateLimit'->>'key')) FILTER (WHERE b.f ? 'rateLimit')
           || array_agg('c:' || (b.f->'concurrency'->>'key')) FILTER (WHERE b.f ? 'concurrency')
  INTO v_ids, v_rk, v_rl, v_rp, v_ck, v_cl, v_locks
  FROM unnest(p_flows) WITH ORDINALITY AS b(f, n);
  IF v_ids IS NULL THEN RETURN; END IF;
  PERFORM errand.flow_lock('reserve', coalesce(v_locks, '{}'));
  -- After the locks: starts are recorded at the time they are decided.
  v_now := clock_timestamp();
  -- 'l' leased, 'p' parked, 'd' deferred, per job in the given order. The counts leave out
  -- starts past the window, so they do not depend on the trim below.
  WITH b AS (
    SELECT * FROM unnest(v_rk, v_rl, v_rp, v_ck, v_cl) WITH ORDINALITY AS b(rk, rl, rp, ck, cl, n)
  ),
  w AS (
    SELECT k.rk, k.rl, k.rp, (SELECT count(*) FROM errand.rate_starts AS r
                              WHERE r.key = k.rk AND r.started_at > v_now - k.rp * interval '1 millisecond') AS cnt
    FROM (SELECT DISTINCT b.rk, b.rl, b.rp FROM b WHERE b.rk IS NOT NULL) AS k
  ),
  -- Only jobs_concurrency may serve the count: jobs_running_lease (every running job's
  -- entry, dead versions included) read 2,100 entries per job when the planner took it
  -- (bench/flow/README.md), and with `state = 'running'` it still may (it did here, in psql,
  -- with no job running). `state IN (…) AND state > 'available'` is `state = 'running'`, but
  -- implies jobs_concurrency's predicate only; btree drops the 'available' arm as
  -- contradictory. The live lease is a FILTER, not a WHERE condition, for the same reason.
  h AS (
    SELECT k.ck, k.cl, (SELECT count(*) FILTER (WHERE hj.lease_until > now()) FROM errand.jobs AS hj
                        WHERE hj.concurrency_key = k.ck AND hj.state IN ('available', 'running') AND hj.state > 'available') AS cnt
    FROM (SELECT DISTINCT b.ck, b.cl FROM b WHERE b.ck IS NOT NULL) AS k
  ),
  d AS (
    SELECT b.n, b.rk IS NOT NULL AND b.ck IS NOT NULL AS both_keys,
           b.rk IS NULL OR w.cnt + row_number() OVER (PARTITION BY b.rk ORDER BY b.n) <= b.rl AS rate_ok,
           b.ck IS NULL OR h.cnt + row_number() OVER (PARTITION BY b.ck ORDER BY b.n) <= b.cl AS conc_ok
    FROM b LEFT JOIN w ON w.rk = b.rk AND w.rl = b.rl AND w.rp = b.rp LEFT JOIN h ON h.ck = b.ck AND h.cl = b.cl
  )
  SELECT array_agg(CASE WHEN NOT d.rate_ok THEN 'd' WHEN NOT d.conc_ok THEN 'p' ELSE 'l' END::"char" ORDER BY d.n),
         bool_and(NOT d.both_keys OR (d.rate_ok AND d.conc_ok))
           AND (SELECT count(*) = count(DISTINCT w.rk) FROM w) AND (SELECT count(*) = count(DISTINCT h.ck) FROM h),
         bool_or(d.rate_ok AND NOT d.conc_ok), bool_or(NOT d.rate_ok)
  INTO v_dec, v_exact, v_parked, v_deferred
  FROM d;
  IF NOT v_exact THEN
    RETURN QUERY SELECT * FROM errand.flow_admit_ordered(v_ids, p_lease_ms, p_worker, v_now);
    PERFORM errand.notify_uuids(nullif(p_status, ''), v_ids);
    RETURN;
  END IF;
  -- The windows past their perMs go (the loop trimmed them before counting).
  DELETE FROM errand.rate_starts AS r
  USING (SELECT DISTINCT x.rk, x.rp FROM unnest(v_rk, v_rp) AS x(rk, rp) WHERE x.rk IS NOT NULL) AS k
  WHERE r.key = k.rk AND r.started_at <= v_now - k.rp * interval '1 millisecond';
  RETURN QUERY
  UPDATE errand.jobs AS j
  SET state = 'running', lease_token = v_token, lease_until = now() + p_lease_ms * interval '1 millisecond',
      worker_id = p_worker, executions = j.executions + 1, started_at = now(), updated_at = now(), deferred = false
  FROM unnest(v_ids, v_dec) AS x(id, dec)
  WHERE j.id = x.id AND x.dec = 'l'
  RETURNING j.id, j.body, j.lease_token, j.executions, j.priority, j.run_at, j.seq;
  INSERT INTO errand.rate_starts (key, started_at, expires_at)
  SELECT x.rk, v_now, v_now + x.rp * interval '1 millisecond'
  FROM unnest(v_rk, v_rp, v_dec) AS x(rk, rp, dec) WHERE x.dec = 'l' AND x.rk IS NOT NULL;
  IF v_deferred THEN
    -- After the starts above, as in order: the limit-th newest start leaves the window first.
    RETURN QUERY
    UPDATE errand.jobs AS j SET run_at = k.at, deferred = true, updated_at = now()
    FROM unnest(v_ids, v_rk, v_dec) AS x(id, rk, dec)
    JOIN (SELECT k.rk, (SELECT r.started_at + k.rp * interval '1 millisecond' FROM errand.rate_starts AS r
                        WHERE r.key = k.rk AND r.started_at > v_now - k.rp * interval '1 millisecond'
                        ORDER BY r.started_at DESC OFFSET k.rl - 1 LIMIT 1) AS at
          FROM (SELECT DISTINCT y.rk, y.rl, y.rp FROM unnest(v_rk, v_rl, v_rp, v_dec) AS y(rk, rl, rp, dec) WHERE y.dec = 'd') AS k) AS k
      ON k.rk = x.rk
    WHERE j.id = x.id AND x.dec = 'd'
    RETURNING j.id, NULL::text, NULL::bigint, NULL::integer, NULL::integer, j.run_at, NULL::bigint;
  END IF;
  IF v_parked THEN
    -- parked_seq in the given order (FIFO): the sorted subquery numbers before the join.
    RETURN QUERY
    UPDATE errand.jobs AS j SET state = 'parked', parked_seq = o.s
    FROM (SELECT x.id, nextval('errand.parked_order') AS s
          FROM (SELECT x.id FROM unnest(v_ids, v_dec) WITH ORDINALITY AS x(id, dec, n) WHERE x.dec = 'p' ORDER BY x.n) AS x) AS o
    WHERE j.id = o.id
    RETURNING j.id, NULL::text, NULL::bigint, NULL::integer, NULL::integer, NULL::timestamptz, NULL::bigint;
  END IF;
  PERFORM errand.notify_uuids(nullif(p_status, ''), v_ids);
END
$$;

-- Frees the slots of holders that settled or whose lease expired (their rows are already
-- changed, in this transaction): per key, as many parked jobs are un-parked as holders of it
-- are given, and their queues woken. STRICT: a settle without such holders does not call it
-- (p_status '' means no status channel). After the keys' locks (the header's race), one
-- statement: per key one probe of jobs_parked, which finds nothing for a key without parked
-- jobs (the usual case: no limit binding), and one UPDATE of the parked jobs found, if any.
-- It was a call of flow_unpark (an UPDATE with a sub-select) per key.
CREATE FUNCTION errand.flow_release(p_keys text[], p_wake text, p_status text) RETURNS integer
LANGUAGE plpgsql STRICT
SET enable_seqscan = off
AS $$
DECLARE
  v_ids uuid[];
  v_queues text[];
BEGIN
  PERFORM errand.flow_lock('reserve', ARRAY(SELECT 'c:' || k FROM unnest(p_keys) AS k));
  WITH freed AS (
    UPDATE errand.jobs AS j SET state = 'available', parked_seq = NULL
    WHERE j.state = 'parked' AND j.id IN (
      SELECT p.id FROM (SELECT k, count(*) AS n FROM unnest(p_keys) AS k GROUP BY k) AS g
      CROSS JOIN LATERAL (
        SELECT p.id FROM errand.jobs AS p
        WHERE p.state = 'parked' AND p.concurrency_key = g.k
        ORDER BY p.parked_seq LIMIT g.n
        FOR UPDATE SKIP LOCKED) AS p)
    RETURNING j.id, j.queue, j.run_at <= now() AS due
  )
  SELECT array_agg(f.id), array_agg(DISTINCT f.queue) FILTER (WHERE f.due) INTO v_ids, v_queues FROM freed AS f;
  IF v_ids IS NULL THEN RETURN 0; END IF;
  PERFORM pg_notify(p_wake, q) FROM unnest(v_queues) AS q;
  PERFORM errand.notify_uuids(nullif(p_status, ''), v_ids);
  RETURN cardinality(v_ids);
END
$$;

-- The upkeep's safety sweep: for up to p_keys keys with parked jobs, after p_after (NULL:
-- from the first), un-parks up to (limit − live holders − jobs of the key ready now), the
-- limit being the one the oldest parked job carries. Progress even if a process died
-- between a settle and its un-park. Returns the last key looked at, or NULL when the keys
-- ran out (the next pass starts from the first again).
CREATE FUNCTION errand.flow_sweep(p_after text, p_keys integer, p_wake text, p_status text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  v_keys text[];
  v_key text;
  v_limit integer;
  v_busy integer;
  v_ids uuid[] := '{}';
  v_queues text[] := '{}';
  v_freed record;
BEGIN
  -- Distinct keys by skipping through the parked index, one probe per key.
  WITH RECURSIVE k AS (
    (SELECT p.concurrency_key AS key FROM errand.jobs AS p
     WHERE p.state = 'parked' AND p.concurrency_key > coalesce(p_after, '')
     ORDER BY p.concurrency_key LIMIT 1)
    UNION ALL
    SELECT (SELECT p.concurrency_key FROM errand.jobs AS p
            WHERE p.state = 'parked' AND p.concurrency_key > k.key
            ORDER BY p.concurrency_key LIMIT 1)
    FROM k WHERE k.key IS NOT NULL
  )
  SELECT array_agg(key) INTO v_keys FROM (SELECT key FROM k WHERE key IS NOT NULL LIMIT p_keys) AS found;
  IF v_keys IS NULL THEN RETURN NULL; END IF;
  PERFORM errand.flow_lock('reserve', ARRAY(SELECT 'c:' || k FROM unnest(v_keys) AS k));
  FOREACH v_key IN ARRAY v_keys LOOP
    SELECT (p.flow->'concurrency'->>'limit')::integer INTO v_limit FROM errand.jobs AS p
    WHERE p.state = 'parked' AND p.concurrency_key = v_key ORDER BY p.parked_seq LIMIT 1;
    CONTINUE WHEN NOT FOUND;
    SELECT count(*) INTO v_busy FROM errand.jobs AS h
    WHERE h.concurrency_key = v_key
      AND ((h.state = 'running' AND h.lease_until > now()) OR (h.state = 'available' AND h.run_at <= now()));
    CONTINUE WHEN v_busy >= v_limit;
    FOR v_freed IN SELECT * FROM errand.flow_unpark(v_key, v_limit - v_busy) LOOP
      v_ids := v_ids || v_freed.id;
      IF v_freed.due THEN v_queues := v_queues || v_freed.queue; END IF;
    END LOOP;
  END LOOP;
  PERFORM pg_notify(p_wake, q) FROM (SELECT DISTINCT unnest(v_queues) AS q) AS due;
  PERFORM errand.notify_uuids(p_status, nullif(v_ids, '{}'));
  RETURN CASE WHEN cardinality(v_keys) < p_keys THEN NULL ELSE v_keys[cardinality(v_keys)] END;
END
$$;

-- The reserve functions of 003 with two more columns, `gated` (flow IS NOT NULL) and, for a
-- gated job, its `flow`: a plain job is leased as before; a gated one is only picked (and
-- locked) and handed to flow_admit, with its flow, by the calling statement (reserve-*.sql). Parked jobs are not `available`: never scanned.
DROP FUNCTION errand.reserve_any(integer, integer, text);
CREATE FUNCTION errand.reserve_any(p_max integer, p_lease_ms integer, p_worker text)
RETURNS TABLE (id uuid, body text, lease_token bigint, executions integer, ord bigint, priority integer, run_at timestamptz, seq bigint, gated boolean, flow jsonb)
LANGUAGE plpgsql
SET enable_bitmapscan = off
SET enable_sort = off
AS $$
#variable_conflict use_column
DECLARE
  v_token bigint := nextval('errand.lease_tokens');
BEGIN
  RETURN QUERY
  WITH picked AS (
    SELECT j.id, j.priority, j.run_at, j.seq, j.flow IS NOT NULL AS gated, j.flow FROM errand.jobs AS j
    WHERE j.state = 'available' AND j.run_at <= now()
    ORDER BY j.priority, j.run_at, j.seq
    LIMIT p_max
    FOR UPDATE SKIP LOCKED
  ),
  leased AS (
    UPDATE errand.jobs AS jobs
    SET state = 'running', lease_token = v_token,
        lease_until = now() + p_lease_ms * interval '1 millisecond', worker_id = p_worker,
        executions = jobs.executions + 1, started_at = now(), updated_at = now()
    FROM picked
    WHERE jobs.id = picked.id AND NOT picked.gated
    RETURNING jobs.id, jobs.body, jobs.lease_token, jobs.executions, 1::bigint, jobs.priority, jobs.run_at, jobs.seq, false, NULL::jsonb
  )
  SELECT * FROM leased
  UNION ALL
  SELECT picked.id, NULL::text, NULL::bigint, NULL::integer, 1::bigint, picked.priority, picked.run_at, picked.seq, true, picked.flow
  FROM picked WHERE picked.gated;
END
$$;

DROP FUNCTION errand.reserve_queues(text[], integer, integer, text);
CREATE FUNCTION errand.reserve_queues(p_queues text[], p_max integer, p_lease_ms integer, p_worker text)
RETURNS TABLE (id uuid, body text, lease_token bigint, executions integer, ord bigint, priority integer, run_at timestamptz, seq bigint, gated boolean, flow jsonb)
LANGUAGE plpgsql
SET enable_bitmapscan = off
SET enable_sort = off
AS $$
#variable_conflict use_column
DECLARE
  v_token bigint := nextval('errand.lease_tokens');
BEGIN
  RETURN QUERY
  WITH picked AS (
    SELECT j.id, q.ord, j.priority, j.run_at, j.seq, j.gated, j.flow
    FROM unnest(p_queues) WITH ORDINALITY AS q(name, ord)
    CROSS JOIN LATERAL (
      SELECT jobs.id, jobs.priority, jobs.run_at, jobs.seq, jobs.flow IS NOT NULL AS gated, jobs.flow FROM errand.jobs AS jobs
      WHERE jobs.state = 'available' AND jobs.queue = q.name AND jobs.run_at <= now()
      ORDER BY jobs.priority, jobs.run_at, jobs.seq
      LIMIT p_max
      FOR UPDATE SKIP LOCKED
    ) AS j
    ORDER BY q.ord
    LIMIT p_max
  ),
  leased AS (
    UPDATE errand.jobs AS jobs
    SET state = 'running', lease_token = v_token,
        lease_until = now() + p_lease_ms * interval '1 millisecond', worker_id = p_worker,
        executions = jobs.executions + 1, started_at = now(), updated_at = now()
    FROM picked
    WHERE jobs.id = picked.id AND NOT picked.gated
    RETURNING jobs.id, jobs.body, jobs.lease_token, jobs.executions, picked.ord, jobs.priority, jobs.run_at, jobs.seq, false, NULL::jsonb
  )
  SELECT * FROM leased
  UNION ALL
  SELECT picked.id, NULL::text, NULL::bigint, NULL::integer, picked.ord, picked.priority, picked.run_at, picked.seq, true, picked.flow
  FROM picked WHERE picked.gated;
END
$$;

-- ---- retention ---------------------------------------------------------------------------

-- Deletes up to p_max unique locks whose holder no longer blocks (expired, gone, or in a
-- state its `while` lets through), and up to p_max rate-window starts past their window.
-- A lock is deleted under its key's lock (tried, never waited for: a key being enqueued
-- now is left for the next pass), and re-checked after it, in a fresh snapshot. Returns
-- how many locks were looked at, so the caller knows whether more may be left.
CREATE FUNCTION errand.flow_retention(p_max integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_space integer := hashtext('errand.jobs:enqueue');
  v_key text;
  v_seen integer := 0;
BEGIN
  FOR v_key IN
    SELECT u.key FROM errand.unique_locks AS u LEFT JOIN errand.jobs AS j ON j.id = u.job_id
    WHERE u.expires_at <= now() OR j.id IS NULL OR NOT errand.unique_blocks(u.blocks_while, j.state, j.error, j.deferred)
    LIMIT p_max
  LOOP
    v_seen := v_seen + 1;
    CONTINUE WHEN NOT pg_try_advisory_xact_lock(v_space, hashtext('u:' || v_key));
    DELETE FROM errand.unique_locks AS u
    WHERE u.key = v_key
      AND (u.expires_at <= now() OR NOT EXISTS (
        SELECT 1 FROM errand.jobs AS j WHERE j.id = u.job_id AND errand.unique_blocks(u.blocks_while, j.state, j.error, j.deferred)));
  END LOOP;
  DELETE FROM errand.rate_starts WHERE ctid = ANY(ARRAY(
    SELECT r.ctid FROM errand.rate_starts AS r WHERE r.expires_at <= now() LIMIT p_max FOR UPDATE SKIP LOCKED));
  RETURN v_seen;
END
$$;
