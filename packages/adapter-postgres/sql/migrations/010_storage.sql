-- 010: a storage layout in which settling a job is a HOT update (issue 14).
--
-- PostgreSQL updates a row in place on its page, without new index entries (HOT), only when
-- no column named by an index key or a partial index's predicate changes. Up to 009 every
-- job took two non-HOT updates, reserve (state 'running') and settle (state 'succeeded'),
-- because `state`, `lease_until` and `finished_at` were in index keys or predicates. Now:
--
-- - `lease_token` says where a job is, for the indexes: NULL while it is ready (available:
--   queued, scheduled, retrying, deferred), the reserve call's token (> 0) from its reserve
--   on, 0 while parked. Settle keeps the token of a finished (or dead) job; a retry, a
--   release, a lease expiry, an un-park and a revival set it back to NULL. So reserve is the
--   one non-HOT update of a job's life; settle-succeeded (state, result, finished_at,
--   updated_at), lease renewals and progress change no indexed column.
-- - Ready jobs: `jobs_ready` and `jobs_ready_by_queue`, WHERE lease_token IS NULL.
-- - Parked jobs: `jobs_parked` (concurrency_key, parked_seq) WHERE parked_seq IS NOT NULL.
-- - Dead jobs: `jobs_dead` on `dead_at`, set only for dead jobs (a dead settle is non-HOT).
-- - `batches`: one row per reserve call that leased something, keyed by its lease token,
--   with its jobs' ids and the latest deadline of their leases (renewals push it). Lease
--   expiry looks at open batches past their deadline and reaches their jobs by primary key
--   (those still holding the batch's token); a batch with no live lease left is closed.
--   Retention walks batches oldest first (tokens only grow) and deletes their finished jobs
--   the same way: no index on finished_at, lease_until or lease_token.
-- - `slots`: one row per live holder of a concurrency key (flow control, 006/007); admission
--   counts a key's rows with a live lease, settle and expiry delete the holders' rows, a
--   renewal pushes them (009's refusal of late renewals is kept). Before, the holders were
--   counted through jobs_concurrency, an index on `state`.
--
-- fillfactor 50: a page keeps room for the reserve's new version and settle's HOT one.
-- Measured with bench/postgres/sql-variants.js (reserve 800 + settle-succeeded, 20k jobs,
-- one connection; HOT share of all updates, of which half at most can be HOT — reserve
-- never is; WAL of the bench schema's own relations per job, read with pg_walinspect):
--   fillfactor 100: 0 % HOT;  90: 8–10 %, 1,071–1,185 B;  75: 15 %;  60: 36–41 %;
--   50: 33–46 %, 500–632 B (442 B once the index on lease_token went: batches keep their
--   jobs' ids);  40: 48 %, no less WAL than 50.
-- The share varies between runs on a shared server: pruning a page (which makes the room)
-- waits for the oldest snapshot of any session. Up to 009: 0 % HOT, 1,327 B (cluster-wide).
-- The price: ready rows take twice the pages until their first update.
--
-- Existing rows are converted below, in the migration's transaction: nothing stored is lost.

CREATE TABLE errand.batches (
  token bigint PRIMARY KEY,
  worker_id text,
  reserved_at timestamptz NOT NULL DEFAULT now(),
  -- The latest deadline of its jobs' leases (renewals push it).
  lease_until timestamptz NOT NULL,
  -- Jobs leased by the call: retention's (approximate) count of finished jobs.
  jobs integer NOT NULL,
  -- Their ids: expiry and retention reach them by primary key (an index on lease_token
  -- cost a btree insert per reserved job, ~80 B of WAL).
  ids uuid[] NOT NULL,
  -- False once no job of the batch holds a live lease (lease expiry closed it).
  open boolean NOT NULL DEFAULT true
);
CREATE INDEX batches_due ON errand.batches (lease_until) WHERE open;

CREATE TABLE errand.slots (
  key text NOT NULL,
  job_id uuid NOT NULL,
  token bigint NOT NULL,
  lease_until timestamptz NOT NULL,
  PRIMARY KEY (key, job_id)
);

-- ---- the data --------------------------------------------------------------------------

-- Running jobs: a batch per token (003 gave a reserve call's jobs one token), and a slot per
-- holder of a concurrency key.
INSERT INTO errand.batches (token, worker_id, reserved_at, lease_until, jobs, ids)
SELECT j.lease_token, min(j.worker_id), min(coalesce(j.started_at, now())), max(coalesce(j.lease_until, now())), count(*), array_agg(j.id)
FROM errand.jobs AS j WHERE j.state = 'running' AND j.lease_token IS NOT NULL GROUP BY j.lease_token;
INSERT INTO errand.slots (key, job_id, token, lease_until)
SELECT j.concurrency_key, j.id, j.lease_token, coalesce(j.lease_until, now())
FROM errand.jobs AS j WHERE j.state = 'running' AND j.lease_token IS NOT NULL AND j.concurrency_key IS NOT NULL;
-- Tokens only grow (retention relies on it): the sequence goes past every token stored.
SELECT setval('errand.lease_tokens', greatest((SELECT max(lease_token) FROM errand.jobs), (SELECT last_value FROM errand.lease_tokens), 1));
-- Finished jobs (their settle cleared the token): one closed batch holds them, for retention.
-- It is the only closed batch at this point.
INSERT INTO errand.batches (token, worker_id, reserved_at, lease_until, jobs, ids, open)
SELECT nextval('errand.lease_tokens'), NULL, coalesce(min(finished_at), now()), now(), count(*), array_agg(id ORDER BY finished_at, seq), false
FROM errand.jobs WHERE state IN ('succeeded', 'failed') HAVING count(*) > 0;

-- The table is rebuilt with its columns in a new order: a HOT update on the same page logs
-- only the bytes between the first and the last changed column (prefix and suffix
-- compression), so the columns settle changes (state, result, finished_at, updated_at) come
-- last, after those reserve changes (lease_token … lease_until), and the body comes before
-- both. A settle-succeeded's WAL record no longer carries the body.
CREATE TABLE errand.jobs_010 (
  id uuid PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  job text NOT NULL,
  queue text NOT NULL,
  priority integer NOT NULL DEFAULT 0,
  run_at timestamptz NOT NULL,
  enqueued_at timestamptz NOT NULL,
  -- Moved to a later run_at by its rate limit: reads as queued, not scheduled (006).
  deferred boolean NOT NULL DEFAULT false,
  -- Order among the parked jobs of a key (FIFO); NULL unless parked (006).
  parked_seq bigint,
  concurrency_key text,
  -- {"concurrency": {key, limit}, "rateLimit": {key, limit, perMs}}, or NULL (006).
  flow jsonb,
  -- The payload as stored: wire-format JSON text, readable in psql, kept verbatim even when malformed.
  body text NOT NULL,
  -- When it died; NULL unless dead.
  dead_at timestamptz,
  error jsonb,
  progress jsonb,
  -- NULL: ready; > 0: its reserve call's batch; 0: parked; -1: dead from before 010.
  lease_token bigint,
  worker_id text,
  -- Runs started (status); the body's own "executions" counts runs started before a delivery.
  executions integer NOT NULL DEFAULT 0,
  started_at timestamptz,
  lease_until timestamptz,
  state text NOT NULL CHECK (state IN ('available', 'parked', 'running', 'succeeded', 'failed', 'dead')),
  result text,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 50);

-- Every row, converted: ready rows without a token, parked ones with 0, finished ones in the
-- closed batch above, dead ones with dead_at. A running row without a token (none is
-- expected: no one could settle it) goes back to ready as an expired lease would.
INSERT INTO errand.jobs_010 (id, seq, job, queue, priority, run_at, enqueued_at, deferred, parked_seq, concurrency_key, flow, body,
                             dead_at, error, progress, lease_token, worker_id, executions, started_at, lease_until, state, result,
                             finished_at, updated_at)
OVERRIDING SYSTEM VALUE
SELECT j.id, j.seq, j.job, j.queue, j.priority, j.run_at, j.enqueued_at, j.deferred, j.parked_seq, j.concurrency_key, j.flow, j.body,
       CASE WHEN j.state = 'dead' THEN coalesce(j.finished_at, j.updated_at) END, j.error, j.progress,
       CASE WHEN j.state = 'running' THEN j.lease_token
            WHEN j.state = 'parked' THEN 0
            WHEN j.state IN ('succeeded', 'failed') THEN (SELECT b.token FROM errand.batches AS b WHERE NOT b.open)
            WHEN j.state = 'dead' THEN coalesce(j.lease_token, -1) END,
       j.worker_id,
       CASE WHEN j.state = 'running' AND j.lease_token IS NULL THEN greatest(j.executions - 1, 0) ELSE j.executions END,
       j.started_at,
       CASE WHEN j.state = 'running' AND j.lease_token IS NOT NULL THEN j.lease_until END,
       CASE WHEN j.state = 'running' AND j.lease_token IS NULL THEN 'available' ELSE j.state END,
       j.result, j.finished_at, j.updated_at
FROM errand.jobs AS j;

DROP TABLE errand.jobs;
ALTER TABLE errand.jobs_010 RENAME TO jobs;
ALTER INDEX errand.jobs_010_pkey RENAME TO jobs_pkey;
ALTER TABLE errand.jobs RENAME CONSTRAINT jobs_010_state_check TO jobs_state_check;
ALTER SEQUENCE errand.jobs_010_seq_seq RENAME TO jobs_seq_seq;
SELECT setval('errand.jobs_seq_seq', coalesce(max(seq), 0) + 1, false) FROM errand.jobs;

CREATE INDEX jobs_ready_by_queue ON errand.jobs (queue, priority, run_at, seq) WHERE lease_token IS NULL;
CREATE INDEX jobs_ready ON errand.jobs (priority, run_at, seq) WHERE lease_token IS NULL;
CREATE INDEX jobs_parked ON errand.jobs (concurrency_key, parked_seq) WHERE parked_seq IS NOT NULL;
-- Ready jobs of a concurrency key (the sweep counts them).
CREATE INDEX jobs_ready_key ON errand.jobs (concurrency_key) WHERE lease_token IS NULL AND concurrency_key IS NOT NULL;
CREATE INDEX jobs_dead ON errand.jobs (dead_at DESC, seq DESC) WHERE dead_at IS NOT NULL;

-- ---- reserve -----------------------------------------------------------------------------

-- 007's reserve functions on the new ready indexes; a call that leased jobs stores its batch.
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

-- ---- flow control (007's functions on slots and the new indexes) -----------------------

CREATE OR REPLACE FUNCTION errand.flow_unpark(p_key text, p_count integer)
RETURNS TABLE (id uuid, queue text, due boolean)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  UPDATE errand.jobs AS j SET state = 'available', parked_seq = NULL, lease_token = NULL
  WHERE j.parked_seq IS NOT NULL AND j.id IN (
    SELECT p.id FROM errand.jobs AS p
    WHERE p.parked_seq IS NOT NULL AND p.concurrency_key = p_key
    ORDER BY p.parked_seq LIMIT p_count
    FOR UPDATE SKIP LOCKED)
  RETURNING j.id, j.queue, j.run_at <= now();
END
$$;

CREATE OR REPLACE FUNCTION errand.flow_admit_ordered(p_ids uuid[], p_lease_ms integer, p_worker text, p_now timestamptz)
RETURNS TABLE (id uuid, body text, lease_token bigint, executions integer, priority integer, run_at timestamptz, seq bigint)
LANGUAGE plpgsql STRICT AS $$
#variable_conflict use_column
DECLARE
  v_token bigint := nextval('errand.lease_tokens');
  v_until timestamptz := now() + p_lease_ms * interval '1 millisecond';
  v_leased uuid[] := '{}';
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
        SELECT r.started_at + v_per INTO v_at FROM errand.rate_starts AS r
        WHERE r.key = v_key AND r.started_at > p_now - v_per
        ORDER BY r.started_at DESC OFFSET v_limit - 1 LIMIT 1;
        UPDATE errand.jobs AS j SET run_at = v_at, deferred = true, updated_at = now() WHERE j.id = v_job.id;
        RETURN QUERY SELECT v_job.id, NULL::text, NULL::bigint, NULL::integer, NULL::integer, v_at, NULL::bigint;
        CONTINUE;
      END IF;
    END IF;
    IF v_job.flow ? 'concurrency' THEN
      SELECT count(*) INTO v_count FROM errand.slots AS s
      WHERE s.key = v_job.flow->'concurrency'->>'key' AND s.lease_until > now();
      IF v_count >= (v_job.flow->'concurrency'->>'limit')::integer THEN
        UPDATE errand.jobs AS j SET state = 'parked', lease_token = 0, parked_seq = nextval('errand.parked_order') WHERE j.id = v_job.id;
        RETURN QUERY SELECT v_job.id, NULL::text, NULL::bigint, NULL::integer, NULL::integer, NULL::timestamptz, NULL::bigint;
        CONTINUE;
      END IF;
      INSERT INTO errand.slots (key, job_id, token, lease_until) VALUES (v_job.flow->'concurrency'->>'key', v_job.id, v_token, v_until);
    END IF;
    RETURN QUERY
    UPDATE errand.jobs AS j
    SET state = 'running', lease_token = v_token, lease_until = v_until,
        worker_id = p_worker, executions = j.executions + 1, started_at = now(), updated_at = now(), deferred = false
    WHERE j.id = v_job.id
    RETURNING j.id, j.body, j.lease_token, j.executions, j.priority, j.run_at, j.seq;
    v_leased := v_leased || v_job.id;
    IF v_job.flow ? 'rateLimit' THEN
      INSERT INTO errand.rate_starts (key, started_at, expires_at) VALUES (v_key, p_now, p_now + v_per);
    END IF;
  END LOOP;
  IF cardinality(v_leased) > 0 THEN
    INSERT INTO errand.batches (token, worker_id, lease_until, jobs, ids) VALUES (v_token, p_worker, v_until, cardinality(v_leased), v_leased);
  END IF;
END
$$;

-- 007's flow_admit with the holders counted in slots (the live ones: lease_until > now()),
-- a slot stored per leased holder, parked jobs given the token 0, and the call's batch.
CREATE OR REPLACE FUNCTION errand.flow_admit(p_ids uuid[], p_flows jsonb[], p_lease_ms integer, p_worker text, p_status text)
RETURNS TABLE (id uuid, body text, lease_token bigint, executions integer, priority integer, run_at timestamptz, seq bigint)
LANGUAGE plpgsql STRICT
SET enable_seqscan = off
AS $$
#variable_conflict use_column
DECLARE
  v_token bigint := nextval('errand.lease_tokens');
  v_until timestamptz := now() + p_lease_ms * interval '1 millisecond';
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
  v_leased integer;
BEGIN
  SELECT p_ids, array_agg(b.f->'rateLimit'->>'key' ORDER BY b.n), array_agg((b.f->'rateLimit'->>'limit')::integer ORDER BY b.n),
         array_agg((b.f->'rateLimit'->>'perMs')::bigint ORDER BY b.n), array_agg(b.f->'concurrency'->>'key' ORDER BY b.n),
         array_agg((b.f->'concurrency'->>'limit')::integer ORDER BY b.n),
         array_agg('r:' || (b.f->'rateLimit'->>'key')) FILTER (WHERE b.f ? 'rateLimit')
           || array_agg('c:' || (b.f->'concurrency'->>'key')) FILTER (WHERE b.f ? 'concurrency')
  INTO v_ids, v_rk, v_rl, v_rp, v_ck, v_cl, v_locks
  FROM unnest(p_flows) WITH ORDINALITY AS b(f, n);
  IF v_ids IS NULL THEN RETURN; END IF;
  PERFORM errand.flow_lock('reserve', coalesce(v_locks, '{}'));
  v_now := clock_timestamp();
  WITH b AS (
    SELECT * FROM unnest(v_rk, v_rl, v_rp, v_ck, v_cl) WITH ORDINALITY AS b(rk, rl, rp, ck, cl, n)
  ),
  w AS (
    SELECT k.rk, k.rl, k.rp, (SELECT count(*) FROM errand.rate_starts AS r
                              WHERE r.key = k.rk AND r.started_at > v_now - k.rp * interval '1 millisecond') AS cnt
    FROM (SELECT DISTINCT b.rk, b.rl, b.rp FROM b WHERE b.rk IS NOT NULL) AS k
  ),
  h AS (
    SELECT k.ck, k.cl, (SELECT count(*) FROM errand.slots AS s WHERE s.key = k.ck AND s.lease_until > now()) AS cnt
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
         bool_or(d.rate_ok AND NOT d.conc_ok), bool_or(NOT d.rate_ok), count(*) FILTER (WHERE d.rate_ok AND d.conc_ok)
  INTO v_dec, v_exact, v_parked, v_deferred, v_leased
  FROM d;
  IF NOT v_exact THEN
    RETURN QUERY SELECT * FROM errand.flow_admit_ordered(v_ids, p_lease_ms, p_worker, v_now);
    PERFORM errand.notify_uuids(nullif(p_status, ''), v_ids);
    RETURN;
  END IF;
  DELETE FROM errand.rate_starts AS r
  USING (SELECT DISTINCT x.rk, x.rp FROM unnest(v_rk, v_rp) AS x(rk, rp) WHERE x.rk IS NOT NULL) AS k
  WHERE r.key = k.rk AND r.started_at <= v_now - k.rp * interval '1 millisecond';
  RETURN QUERY
  UPDATE errand.jobs AS j
  SET state = 'running', lease_token = v_token, lease_until = v_until,
      worker_id = p_worker, executions = j.executions + 1, started_at = now(), updated_at = now(), deferred = false
  FROM unnest(v_ids, v_dec) AS x(id, dec)
  WHERE j.id = x.id AND x.dec = 'l'
  RETURNING j.id, j.body, j.lease_token, j.executions, j.priority, j.run_at, j.seq;
  IF v_leased > 0 THEN
    INSERT INTO errand.batches (token, worker_id, lease_until, jobs, ids)
    SELECT v_token, p_worker, v_until, v_leased, array_agg(x.id) FROM unnest(v_ids, v_dec) AS x(id, dec) WHERE x.dec = 'l';
    INSERT INTO errand.slots (key, job_id, token, lease_until)
    SELECT x.ck, x.id, v_token, v_until FROM unnest(v_ids, v_ck, v_dec) AS x(id, ck, dec) WHERE x.dec = 'l' AND x.ck IS NOT NULL;
  END IF;
  INSERT INTO errand.rate_starts (key, started_at, expires_at)
  SELECT x.rk, v_now, v_now + x.rp * interval '1 millisecond'
  FROM unnest(v_rk, v_rp, v_dec) AS x(rk, rp, dec) WHERE x.dec = 'l' AND x.rk IS NOT NULL;
  IF v_deferred THEN
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
    RETURN QUERY
    UPDATE errand.jobs AS j SET state = 'parked', lease_token = 0, parked_seq = o.s
    FROM (SELECT x.id, nextval('errand.parked_order') AS s
          FROM (SELECT x.id FROM unnest(v_ids, v_dec) WITH ORDINALITY AS x(id, dec, n) WHERE x.dec = 'p' ORDER BY x.n) AS x) AS o
    WHERE j.id = o.id
    RETURNING j.id, NULL::text, NULL::bigint, NULL::integer, NULL::integer, NULL::timestamptz, NULL::bigint;
  END IF;
  PERFORM errand.notify_uuids(nullif(p_status, ''), v_ids);
END
$$;

-- 007's flow_release on jobs_parked's new predicate. The callers (settle, expiry) delete the
-- freed holders' slots in the same statement.
CREATE OR REPLACE FUNCTION errand.flow_release(p_keys text[], p_wake text, p_status text) RETURNS integer
LANGUAGE plpgsql STRICT
SET enable_seqscan = off
AS $$
DECLARE
  v_ids uuid[];
  v_queues text[];
BEGIN
  PERFORM errand.flow_lock('reserve', ARRAY(SELECT 'c:' || k FROM unnest(p_keys) AS k));
  WITH freed AS (
    UPDATE errand.jobs AS j SET state = 'available', parked_seq = NULL, lease_token = NULL
    WHERE j.parked_seq IS NOT NULL AND j.id IN (
      SELECT p.id FROM (SELECT k, count(*) AS n FROM unnest(p_keys) AS k GROUP BY k) AS g
      CROSS JOIN LATERAL (
        SELECT p.id FROM errand.jobs AS p
        WHERE p.parked_seq IS NOT NULL AND p.concurrency_key = g.k
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

-- 007's sweep: a key's busy count is its live holders plus its jobs ready now. A slot whose
-- job no longer runs under its token (a process died between a settle and its un-park, or
-- the row was changed by hand) is deleted first, under the key's lock.
CREATE OR REPLACE FUNCTION errand.flow_sweep(p_after text, p_keys integer, p_wake text, p_status text) RETURNS text
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
  WITH RECURSIVE k AS (
    (SELECT p.concurrency_key AS key FROM errand.jobs AS p
     WHERE p.parked_seq IS NOT NULL AND p.concurrency_key > coalesce(p_after, '')
     ORDER BY p.concurrency_key LIMIT 1)
    UNION ALL
    SELECT (SELECT p.concurrency_key FROM errand.jobs AS p
            WHERE p.parked_seq IS NOT NULL AND p.concurrency_key > k.key
            ORDER BY p.concurrency_key LIMIT 1)
    FROM k WHERE k.key IS NOT NULL
  )
  SELECT array_agg(key) INTO v_keys FROM (SELECT key FROM k WHERE key IS NOT NULL LIMIT p_keys) AS found;
  IF v_keys IS NULL THEN RETURN NULL; END IF;
  PERFORM errand.flow_lock('reserve', ARRAY(SELECT 'c:' || k FROM unnest(v_keys) AS k));
  FOREACH v_key IN ARRAY v_keys LOOP
    SELECT (p.flow->'concurrency'->>'limit')::integer INTO v_limit FROM errand.jobs AS p
    WHERE p.parked_seq IS NOT NULL AND p.concurrency_key = v_key ORDER BY p.parked_seq LIMIT 1;
    CONTINUE WHEN NOT FOUND;
    DELETE FROM errand.slots AS s
    WHERE s.key = v_key AND NOT EXISTS (
      SELECT 1 FROM errand.jobs AS h WHERE h.id = s.job_id AND h.lease_token = s.token AND h.state = 'running');
    SELECT (SELECT count(*) FROM errand.slots AS s WHERE s.key = v_key AND s.lease_until > now())
         + (SELECT count(*) FROM errand.jobs AS r WHERE r.concurrency_key = v_key AND r.lease_token IS NULL AND r.run_at <= now())
    INTO v_busy;
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

-- ---- lease renewal -----------------------------------------------------------------------

-- 009's renewal, which also pushes the batches' deadlines (and opens them again: an expiry
-- closing a batch re-checks its deadline under the row lock, see expire-leases.sql) and the
-- renewed holders' slots. Lock order as in 009: job rows, advisory locks, then batches and
-- slots (which expiry and settle also change after the job rows).
CREATE OR REPLACE FUNCTION errand.extend_leases(p_ids uuid[], p_tokens bigint[], p_lease_ms integer)
RETURNS TABLE (out_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
  v_keys text[];
BEGIN
  SELECT array_agg(DISTINCT 'c:' || held.concurrency_key) INTO v_keys FROM (
    SELECT j.concurrency_key FROM errand.jobs AS j
    JOIN unnest(p_ids, p_tokens) AS h(id, token) ON j.id = h.id AND j.lease_token = h.token
    WHERE j.state = 'running' AND j.concurrency_key IS NOT NULL
    ORDER BY j.id
    FOR UPDATE OF j
  ) AS held;
  IF v_keys IS NOT NULL THEN
    PERFORM errand.flow_lock('reserve', v_keys);
  END IF;
  RETURN QUERY
  WITH renewed AS (
    UPDATE errand.jobs AS jobs
    SET lease_until = now() + p_lease_ms * interval '1 millisecond', updated_at = now()
    FROM unnest(p_ids, p_tokens) AS h(id, token)
    WHERE jobs.id = h.id AND jobs.lease_token = h.token AND jobs.state = 'running'
      AND (jobs.concurrency_key IS NULL OR jobs.lease_until > clock_timestamp())
    RETURNING jobs.id, jobs.lease_token, jobs.concurrency_key, jobs.lease_until
  ),
  pushed AS (
    UPDATE errand.batches AS b SET lease_until = greatest(b.lease_until, r.until), open = true
    FROM (SELECT renewed.lease_token AS token, max(renewed.lease_until) AS until FROM renewed GROUP BY 1) AS r
    WHERE b.token = r.token
  ),
  held AS (
    UPDATE errand.slots AS s SET lease_until = r.lease_until
    FROM renewed AS r WHERE s.key = r.concurrency_key AND s.job_id = r.id
  )
  SELECT renewed.id FROM renewed;
END
$$;
