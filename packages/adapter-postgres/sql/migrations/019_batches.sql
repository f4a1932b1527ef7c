-- 019: batches (issue 17; the contract is packages/core/src/adapter/batch.ts). A batch is a
-- row of `job_batches` (not `batches`: that name holds the reserve calls' batches, 010) that
-- counts its jobs as they finish; its jobs carry its id in `jobs.batch_id`, NULL for every
-- other job. The counting rides on the statements that store and settle jobs, in their
-- transaction, so "this job finished" and "the batch is done, enqueue its callbacks" are
-- one atomic step, and a process killed between them cannot exist.
--
-- The life of a row: `open` (openBatches) → `running` (sealBatches) → `finished` (the settle,
-- seal or cancel that brings `pending` to 0 while sealed). Counting:
-- - enqueue (enqueue.sql, enqueue-uniform.sql, enqueue_flow): the jobs stored with a batch
--   id (not a callback's) add to `total` and `pending` — only those inserted: a resent job
--   (ON CONFLICT DO NOTHING) or a unique duplicate is not counted. An id with no row fails
--   the statement, naming it: nothing of the call is stored.
-- - settle (settle.sql, settle-succeeded.sql): succeeded / failed (discarded) / dead count
--   and take 1 off `pending`; a retry counts a failed run; a release nothing. Only the rows
--   the settle changed (the lease holder's) are counted.
-- - cancel (cancel_jobs, 014): a cancelled job is discarded (failed), as a settle would
--   count it; without this a batch with a cancelled job would never finish.
-- - retryDead (revive.sql): a revived job is pending again (`dead` − 1, `pending` + 1).
-- When a sealed batch's `pending` reaches 0, batch_finish inserts the callbacks that apply
-- and were not enqueued yet (complete; success with no discarded or dead job, failure
-- otherwise), records their ids in `enqueued` and marks the row finished. Callback jobs are
-- inserted ON CONFLICT (id) DO NOTHING — their ids are made by core at the batch's creation,
-- so a second finish (after a dead job was retried) cannot store one twice — and NOTIFYed
-- as any enqueue (wake channel per due queue, status channel with their ids).
--
-- The race: two transactions settle the last two jobs of a batch at once. Each locks the
-- batch's row (FOR UPDATE) before counting; the second waits for the first's commit, and its
-- UPDATE (a fresh snapshot under READ COMMITTED, in PL/pgSQL) sees `pending` at 1 and takes
-- it to 0: exactly one of them finishes the batch. Rows of several batches are locked in id
-- order, by every statement (enqueue, settle, seal, cancel, revive), so two statements never
-- wait on each other's batch rows in a cycle; every one locks its job rows first and the
-- batch rows after, and none waits on a job row while holding a batch row (the callback
-- inserts take new ids), so job rows and batch rows make no cycle either.
--
-- The hot paths for jobs outside a batch: `batch_id` is in no index (a settle stays a HOT
-- update, 010) and is NULL (no byte in the row: the null bitmap already covers 26 columns);
-- the settle and enqueue statements pass `array_agg(batch_id) FILTER (WHERE batch_id IS NOT
-- NULL)` to STRICT functions, which PostgreSQL does not call at all when it is NULL.

CREATE TABLE errand.job_batches (
  id uuid PRIMARY KEY,
  description text,
  state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'running', 'finished')),
  total integer NOT NULL DEFAULT 0,
  pending integer NOT NULL DEFAULT 0,
  succeeded integer NOT NULL DEFAULT 0,
  discarded integer NOT NULL DEFAULT 0,
  dead integer NOT NULL DEFAULT 0,
  -- Failed runs that were retried.
  failed integer NOT NULL DEFAULT 0,
  -- The callback payloads by kind ({"success": {...}, "complete": {...}}), built by core.
  callbacks jsonb NOT NULL DEFAULT '{}',
  -- The ids of the callbacks enqueued so far, by kind.
  enqueued jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  finished_at timestamptz
);
-- Retention (batch-retention.sql): finished batches, oldest first.
CREATE INDEX job_batches_finished ON errand.job_batches (finished_at) WHERE state = 'finished';

-- No default, nullable: a change of the catalog only, however many rows the table holds.
ALTER TABLE errand.jobs ADD COLUMN batch_id uuid;

-- ---- counting ----------------------------------------------------------------------------

-- Jobs stored into batches: one id per job inserted (repeated). Locks the rows in id order;
-- an id with no row fails the statement (and with it the caller's whole enqueue), naming it.
CREATE FUNCTION errand.batch_enqueued(p_ids uuid[]) RETURNS integer
LANGUAGE plpgsql STRICT AS $$
DECLARE
  v_missing uuid;
  v_count integer;
BEGIN
  PERFORM 1 FROM errand.job_batches AS b WHERE b.id = ANY (p_ids) ORDER BY b.id FOR UPDATE;
  WITH c AS (SELECT x.id, count(*) AS n FROM unnest(p_ids) AS x(id) GROUP BY x.id),
  counted AS (
    UPDATE errand.job_batches AS b SET total = b.total + c.n, pending = b.pending + c.n
    FROM c WHERE b.id = c.id
    RETURNING b.id
  )
  SELECT (SELECT c.id FROM c WHERE c.id NOT IN (SELECT counted.id FROM counted) ORDER BY c.id LIMIT 1), (SELECT count(*) FROM counted)
  INTO v_missing, v_count;
  IF v_missing IS NOT NULL THEN
    RAISE EXCEPTION 'errand: no batch %: unknown, or deleted by retention after it finished (nothing of this enqueue was stored)', v_missing
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN v_count;
END
$$;

-- Inserts the callbacks of batches (locked by the caller) that are sealed and have no job
-- pending, those that apply and were not enqueued yet, and marks the batches finished.
-- Returns the callbacks enqueued. p_wake: the wake channel; p_status: the status channel ('' : none).
CREATE FUNCTION errand.batch_finish(p_ids uuid[], p_wake text, p_status text) RETURNS integer
LANGUAGE plpgsql STRICT AS $$
DECLARE
  v_ids uuid[];
  v_queues text[];
BEGIN
  WITH done AS MATERIALIZED (
    SELECT b.id, b.callbacks, b.discarded + b.dead = 0 AS clean, b.enqueued FROM errand.job_batches AS b
    WHERE b.id = ANY (p_ids) AND b.state <> 'open' AND b.pending = 0
  ),
  due AS MATERIALIZED (
    SELECT d.id AS batch, k.kind, d.callbacks -> k.kind AS p
    FROM done AS d CROSS JOIN LATERAL (VALUES ('complete'), ('success'), ('failure')) AS k(kind)
    WHERE d.callbacks ? k.kind AND NOT d.enqueued ? k.kind
      AND (k.kind = 'complete' OR (k.kind = 'success') = d.clean)
  ),
  stored AS (
    INSERT INTO errand.jobs (id, job, queue, priority, run_at, state, body, executions, enqueued_at)
    SELECT (due.p->>'id')::uuid, due.p->>'job', due.p->>'queue', (due.p->>'priority')::int, (due.p->>'runAt')::timestamptz,
           'available', due.p::text, (due.p->>'executions')::int, (due.p->>'enqueuedAt')::timestamptz
    FROM due
    ON CONFLICT (id) DO NOTHING
    RETURNING id, queue, run_at
  ),
  finished AS (
    UPDATE errand.job_batches AS b
    SET state = 'finished', finished_at = coalesce(b.finished_at, now()),
        enqueued = b.enqueued || coalesce((SELECT jsonb_object_agg(due.kind, due.p->>'id') FROM due WHERE due.batch = b.id), '{}'::jsonb)
    FROM done WHERE b.id = done.id
  )
  SELECT array_agg(s.id), array_agg(DISTINCT s.queue) FILTER (WHERE s.run_at <= statement_timestamp()) INTO v_ids, v_queues FROM stored AS s;
  IF v_ids IS NULL THEN RETURN 0; END IF;
  PERFORM pg_notify(p_wake, q) FROM unnest(v_queues) AS q;
  PERFORM errand.notify_uuids(nullif(p_status, ''), v_ids);
  RETURN cardinality(v_ids);
END
$$;

-- Settled jobs of batches: one id per job and its outcome ('s' succeeded, 'd' discarded,
-- 'x' dead, 'r' a failed run retried). Ids with no row (a batch retention deleted) are not
-- counted. Finishes the batches this brings to 0 pending. Returns the callbacks enqueued.
CREATE FUNCTION errand.batch_settled(p_ids uuid[], p_kinds "char"[], p_wake text, p_status text) RETURNS integer
LANGUAGE plpgsql STRICT AS $$
DECLARE
  v_done uuid[];
BEGIN
  PERFORM 1 FROM errand.job_batches AS b WHERE b.id = ANY (p_ids) ORDER BY b.id FOR UPDATE;
  WITH c AS (
    SELECT x.id, count(*) FILTER (WHERE x.kind = 's') AS s, count(*) FILTER (WHERE x.kind = 'd') AS d,
           count(*) FILTER (WHERE x.kind = 'x') AS x, count(*) FILTER (WHERE x.kind = 'r') AS r
    FROM unnest(p_ids, p_kinds) AS x(id, kind) GROUP BY x.id
  ),
  counted AS (
    UPDATE errand.job_batches AS b
    SET succeeded = b.succeeded + c.s, discarded = b.discarded + c.d, dead = b.dead + c.x, failed = b.failed + c.r,
        pending = b.pending - c.s - c.d - c.x
    FROM c WHERE b.id = c.id
    RETURNING b.id, b.state, b.pending, c.s + c.d + c.x AS ended
  )
  SELECT array_agg(counted.id) INTO v_done FROM counted WHERE counted.state <> 'open' AND counted.pending = 0 AND counted.ended > 0;
  IF v_done IS NULL THEN RETURN 0; END IF;
  RETURN errand.batch_finish(v_done, p_wake, p_status);
END
$$;

-- Dead jobs of batches moved back by retryDead: pending again. One id per job.
CREATE FUNCTION errand.batch_revived(p_ids uuid[]) RETURNS integer
LANGUAGE plpgsql STRICT AS $$
DECLARE
  v_count integer;
BEGIN
  PERFORM 1 FROM errand.job_batches AS b WHERE b.id = ANY (p_ids) ORDER BY b.id FOR UPDATE;
  WITH c AS (SELECT x.id, count(*) AS n FROM unnest(p_ids) AS x(id) GROUP BY x.id)
  UPDATE errand.job_batches AS b SET dead = b.dead - c.n, pending = b.pending + c.n FROM c WHERE b.id = c.id;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  RETURN v_count;
END
$$;

-- sealBatches: open → running, then finishes those with nothing pending. An id with no row
-- fails the call, naming it; sealing a sealed batch changes nothing.
CREATE FUNCTION errand.batch_seal(p_ids uuid[], p_wake text, p_status text) RETURNS integer
LANGUAGE plpgsql STRICT AS $$
DECLARE
  v_missing uuid;
BEGIN
  PERFORM 1 FROM errand.job_batches AS b WHERE b.id = ANY (p_ids) ORDER BY b.id FOR UPDATE;
  SELECT x.id INTO v_missing FROM unnest(p_ids) AS x(id)
  WHERE NOT EXISTS (SELECT 1 FROM errand.job_batches AS b WHERE b.id = x.id) ORDER BY x.id LIMIT 1;
  IF v_missing IS NOT NULL THEN
    RAISE EXCEPTION 'errand: no batch % to seal: unknown, or deleted by retention after it finished', v_missing
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  UPDATE errand.job_batches AS b SET state = 'running' WHERE b.id = ANY (p_ids) AND b.state = 'open';
  RETURN errand.batch_finish(p_ids, p_wake, p_status);
END
$$;

-- 014's cancel_jobs, counting the cancelled jobs of batches as discarded (and so finishing
-- a batch whose last pending job was cancelled); it takes the wake channel for the callbacks.
DROP FUNCTION errand.cancel_jobs(uuid[], jsonb, text);
CREATE FUNCTION errand.cancel_jobs(p_ids uuid[], p_error jsonb, p_status text, p_wake text)
RETURNS TABLE (out_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
  v_token bigint := nextval('errand.lease_tokens');
  v_ids uuid[];
  v_batches uuid[];
BEGIN
  WITH cancelled AS (
    UPDATE errand.jobs AS j
    SET state = 'failed', error = p_error, finished_at = now(), updated_at = now(), lease_token = v_token,
        lease_until = NULL, parked_seq = NULL, deferred = false
    WHERE j.id = ANY (p_ids) AND j.state IN ('available', 'parked')
    RETURNING j.id, j.batch_id
  )
  SELECT array_agg(c.id), array_agg(c.batch_id) FILTER (WHERE c.batch_id IS NOT NULL) INTO v_ids, v_batches FROM cancelled AS c;
  IF v_ids IS NULL THEN RETURN; END IF;
  INSERT INTO errand.batches (token, worker_id, lease_until, jobs, ids, open)
  VALUES (v_token, NULL, now(), cardinality(v_ids), v_ids, false);
  IF v_batches IS NOT NULL THEN
    PERFORM errand.batch_settled(v_batches, array_fill('d'::"char", ARRAY[cardinality(v_batches)]), p_wake, coalesce(p_status, ''));
  END IF;
  PERFORM errand.notify_uuids(p_status, v_ids);
  RETURN QUERY SELECT unnest(v_ids);
END
$$;

-- ---- enqueue_flow ------------------------------------------------------------------------

-- 018's enqueue_flow, storing each job's batch id (`batch.id` of a payload that is not a
-- callback) and counting the jobs it inserted into their batches (batch_enqueued).

CREATE OR REPLACE FUNCTION errand.enqueue_flow(p_payloads json, p_wake text, p_status text)
RETURNS TABLE (out_id uuid, out_duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_p json;
  v_unique json;
  v_recurring json;
  v_id uuid;
  v_holder uuid;
  v_stored uuid[] := '{}';
  v_due text[] := '{}';
  v_out uuid[];
  v_dup boolean[];
  v_keys text[];
  v_tasks text[];
  v_set_based boolean;
  v_batches uuid[];
BEGIN
  -- One pass over the batch (a json value is parsed again by every json_array_elements,
  -- and a json element by every `->`: the flow is made jsonb once): the keys to lock, and
  -- whether the batch can be stored by one statement (below). The distinct count compares
  -- bytes (COLLATE "C"): with the database's collation its sort of 5,000 keys took ~180 ms
  -- of a 5,000-job call's ~950 (psql, auto_explain).
  SELECT array_agg('u:' || k.unique_key) FILTER (WHERE k.unique_key IS NOT NULL),
         array_agg('t:' || k.task) FILTER (WHERE k.task IS NOT NULL),
         bool_and(k.recurring IS NULL) AND count(k.unique_key) FILTER (WHERE k.uniq IS NOT NULL) = count(DISTINCT k.unique_key COLLATE "C") FILTER (WHERE k.uniq IS NOT NULL)
           AND count(*) FILTER (WHERE k.uniq IS NOT NULL) = count(k.unique_key) FILTER (WHERE k.uniq IS NOT NULL)
  INTO v_keys, v_tasks, v_set_based
  FROM (SELECT f.f->'unique' AS uniq, f.f->'unique'->>'key' AS unique_key,
               f.f->'recurring' AS recurring, f.f->'recurring'->>'task' AS task
        FROM (SELECT (p->'flow')::jsonb AS f FROM json_array_elements(p_payloads) AS p) AS f) AS k;
  PERFORM errand.flow_lock('enqueue', coalesce(v_keys, '{}') || coalesce(v_tasks, '{}'));
  -- A batch without recurring ticks whose unique keys are all different: no decision depends
  -- on another job of the batch, so deciding them all against the locks as they were is the
  -- same as deciding them in order, and one statement stores them (bench/flow/README.md has
  -- the numbers: the loop below costs ~90 µs of server time per unique job).
  IF v_set_based THEN
    -- Materialized: each job's jsonb is made once (pulled up, `e.p::jsonb` would be repeated
    -- in every expression that reads it).
    WITH batch AS MATERIALIZED (
      SELECT e.n, e.p, e.p::jsonb AS j, (e.p->>'id')::uuid AS id
      FROM json_array_elements(p_payloads) WITH ORDINALITY AS e(p, n)
    ),
    -- Fields are read from the jsonb, the body kept as the json text.
    known AS MATERIALIZED (
      SELECT b.*, EXISTS (SELECT 1 FROM errand.jobs AS x WHERE x.id = b.id) AS resent FROM batch AS b
    ),
    decided AS MATERIALIZED (
      SELECT b.n, b.p, b.j, b.id, b.resent, b.j->'flow'->'unique' AS u,
             (SELECT l.job_id FROM errand.unique_locks AS l JOIN errand.jobs AS j ON j.id = l.job_id
              WHERE NOT b.resent AND b.j->'flow'->'unique' IS NOT NULL AND l.key = b.j->'flow'->'unique'->>'key' AND (l.expires_at IS NULL OR l.expires_at > now())
                AND errand.unique_blocks(l.blocks_while, j.state, j.error, j.deferred)) AS holder
      FROM known AS b
    ),
    inserted AS (
      INSERT INTO errand.jobs (id, job, queue, priority, run_at, state, body, executions, enqueued_at, flow, concurrency_key, batch_id)
      SELECT d.id, d.j->>'job', d.j->>'queue', (d.j->>'priority')::int, (d.j->>'runAt')::timestamptz, 'available', d.p::text,
             (d.j->>'executions')::int, (d.j->>'enqueuedAt')::timestamptz,
             nullif(jsonb_strip_nulls(jsonb_build_object('concurrency', d.j->'flow'->'concurrency', 'rateLimit', d.j->'flow'->'rateLimit')), '{}'::jsonb),
             d.j->'flow'->'concurrency'->>'key',
             CASE WHEN d.j->'batch'->'callback' IS NULL THEN (d.j->'batch'->>'id')::uuid END
      FROM decided AS d WHERE d.holder IS NULL AND NOT d.resent ORDER BY d.n
      ON CONFLICT (id) DO NOTHING
      RETURNING id, batch_id
    ),
    locked AS (
      INSERT INTO errand.unique_locks AS u (key, job_id, blocks_while, expires_at)
      SELECT d.u->>'key', d.id, d.u->>'while',
             (d.j->>'enqueuedAt')::timestamptz + (d.u->>'forMs')::bigint * interval '1 millisecond'
      FROM decided AS d JOIN inserted AS i ON i.id = d.id WHERE d.u IS NOT NULL
      ON CONFLICT (key) DO UPDATE SET job_id = excluded.job_id, blocks_while = excluded.blocks_while, expires_at = excluded.expires_at
    )
    SELECT array_agg(coalesce(d.holder, d.id) ORDER BY d.n), array_agg(d.holder IS NOT NULL ORDER BY d.n),
           coalesce(array_agg(d.id ORDER BY d.n) FILTER (WHERE i.id IS NOT NULL), '{}'),
           coalesce(array_agg(d.j->>'queue') FILTER (WHERE i.id IS NOT NULL AND (d.j->>'runAt')::timestamptz <= statement_timestamp()), '{}'),
           array_agg(i.batch_id) FILTER (WHERE i.batch_id IS NOT NULL)
    INTO v_out, v_dup, v_stored, v_due, v_batches
    FROM decided AS d LEFT JOIN inserted AS i ON i.id = d.id;
    PERFORM errand.batch_enqueued(v_batches);
    RETURN QUERY SELECT o.id, o.dup FROM unnest(v_out, v_dup) WITH ORDINALITY AS o(id, dup, n) ORDER BY o.n;
    PERFORM pg_notify(p_wake, q) FROM (SELECT DISTINCT unnest(v_due) AS q) AS due;
    PERFORM errand.notify_uuids(p_status, nullif(v_stored, '{}'));
    RETURN;
  END IF;
  FOR v_p IN SELECT p FROM json_array_elements(p_payloads) AS p LOOP
    v_id := (v_p->>'id')::uuid;
    IF EXISTS (SELECT 1 FROM errand.jobs WHERE id = v_id) THEN
      -- Sent again (a relay's resend): stored already, answered as stored.
      out_id := v_id;
      out_duplicate := false;
      RETURN NEXT;
      CONTINUE;
    END IF;
    v_unique := v_p->'flow'->'unique';
    v_recurring := v_p->'flow'->'recurring';
    IF v_unique IS NOT NULL THEN
      SELECT u.job_id INTO v_holder
      FROM errand.unique_locks AS u JOIN errand.jobs AS j ON j.id = u.job_id
      WHERE u.key = v_unique->>'key' AND (u.expires_at IS NULL OR u.expires_at > now())
        AND errand.unique_blocks(u.blocks_while, j.state, j.error, j.deferred);
      IF FOUND THEN
        out_id := v_holder;
        out_duplicate := true;
        RETURN NEXT;
        CONTINUE;
      END IF;
    END IF;
    WITH cas AS (
      INSERT INTO errand.recurring AS r (task, last_tick, job_id)
      SELECT v_recurring->>'task', (v_recurring->>'tick')::timestamptz, v_id WHERE v_recurring IS NOT NULL
      ON CONFLICT (task) DO UPDATE SET last_tick = excluded.last_tick, job_id = excluded.job_id, updated_at = now()
        WHERE r.last_tick < excluded.last_tick
      RETURNING r.task
    )
    INSERT INTO errand.jobs (id, job, queue, priority, run_at, state, body, executions, enqueued_at, flow, concurrency_key, batch_id)
    SELECT v_id, v_p->>'job', v_p->>'queue', (v_p->>'priority')::int, (v_p->>'runAt')::timestamptz, 'available', v_p::text,
           (v_p->>'executions')::int, (v_p->>'enqueuedAt')::timestamptz,
           nullif(jsonb_strip_nulls(jsonb_build_object('concurrency', v_p->'flow'->'concurrency', 'rateLimit', v_p->'flow'->'rateLimit')), '{}'::jsonb),
           v_p->'flow'->'concurrency'->>'key',
           CASE WHEN v_p->'batch'->'callback' IS NULL THEN (v_p->'batch'->>'id')::uuid END
    WHERE v_recurring IS NULL OR EXISTS (SELECT 1 FROM cas)
    ON CONFLICT (id) DO NOTHING;
    IF NOT FOUND AND v_recurring IS NULL THEN
      -- Stored meanwhile by a resend of the same job racing this one: stored once, answered as stored.
      out_id := v_id;
      out_duplicate := false;
      RETURN NEXT;
      CONTINUE;
    END IF;
    IF NOT FOUND THEN
      -- The task has this tick or a later one already.
      SELECT r.job_id INTO v_holder FROM errand.recurring AS r WHERE r.task = v_recurring->>'task';
      out_id := v_holder;
      out_duplicate := true;
      RETURN NEXT;
      CONTINUE;
    END IF;
    IF v_unique IS NOT NULL THEN
      INSERT INTO errand.unique_locks AS u (key, job_id, blocks_while, expires_at)
      VALUES (v_unique->>'key', v_id, v_unique->>'while',
              (v_p->>'enqueuedAt')::timestamptz + (v_unique->>'forMs')::bigint * interval '1 millisecond')
      ON CONFLICT (key) DO UPDATE SET job_id = excluded.job_id, blocks_while = excluded.blocks_while, expires_at = excluded.expires_at;
    END IF;
    v_stored := v_stored || v_id;
    IF v_p->'batch' IS NOT NULL AND v_p->'batch'->'callback' IS NULL THEN
      v_batches := v_batches || (v_p->'batch'->>'id')::uuid;
    END IF;
    IF (v_p->>'runAt')::timestamptz <= statement_timestamp() THEN
      v_due := v_due || (v_p->>'queue');
    END IF;
    out_id := v_id;
    out_duplicate := false;
    RETURN NEXT;
  END LOOP;
  PERFORM errand.batch_enqueued(v_batches);
  PERFORM pg_notify(p_wake, q) FROM (SELECT DISTINCT unnest(v_due) AS q) AS due;
  PERFORM errand.notify_uuids(p_status, nullif(v_stored, '{}'));
END
$$;
