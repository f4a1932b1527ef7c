-- 006: flow control (unique jobs, concurrency limits, rate limits) and recurring ticks.
-- The semantics are core's (`FlowControl` in the adapter contract, and the shared flow
-- spec); this file says how PostgreSQL keeps them. A job without flow pays one field test in reserve
-- (`flow IS NOT NULL`) and one in settle (`concurrency_key IS NOT NULL`): nothing else.
--
-- Job states gain `parked`: a job whose concurrency key was full when reserve picked it.
-- It leaves the partial indexes of ready jobs (they hold `available` rows only), so no
-- reserve scans it again, until a settle or a lease expiry of a holder of its key (or the
-- upkeep's sweep) puts it back to `available`, FIFO by `parked_seq`. A job over its rate
-- limit stays `available` with `run_at` moved to the first instant a start is allowed and
-- `deferred` set; both read as `queued` in status and in listQueues.
--
-- Locks. Every decision about a key is taken under a transaction-scoped advisory lock of
-- that key, (hashtext('<schema>.jobs:<space>'), hashtext(key)): space `reserve` for
-- concurrency ('c:' || key) and rate ('r:' || key) keys, space `enqueue` for unique ('u:')
-- keys and recurring ('t:') tasks. A function takes all the locks it needs at once, in the
-- order of their hash (flow_lock), so two transactions never wait on each other's
-- advisory locks in a cycle; whoever holds one never waits for a row lock (un-parking
-- skips locked rows). The statements after the lock run in plpgsql under READ COMMITTED, so
-- each takes a fresh snapshot: it sees everything committed by the lock's previous holder.
--
-- The race this closes: a reserve parks job J because its key looks full while a settle of
-- the key's holder H un-parks. The reserve counts holders and parks J under the key's lock;
-- the settle takes the same lock after marking H settled, then looks for parked jobs. If
-- the reserve has the lock first, the settle waits for its commit and then sees J parked
-- and un-parks it; if the settle has it first, the reserve waits for its commit and then
-- counts H as gone, and leases J. Either way J is not left parked beside a free slot.
-- (The sweep in the upkeep un-parks anyway if a process died between the two.)
-- Reserve decides a whole batch at once (flow_admit): its statements count holders and
-- windows after all the batch's locks are held, and only touch rows the reserve already
-- holds (FOR UPDATE); so the argument above holds for each key of the batch. Lock order is
-- always rows first, then advisory locks (reserve: picked rows, then flow_admit's locks;
-- settle and expiry: the settled rows, then flow_release's; 009's renewal likewise).
--
-- `errand.` is replaced by the configured schema everywhere in this file, in string
-- literals too: 'errand.jobs:reserve' becomes '"<schema>".jobs:reserve', so each schema has
-- its own lock space.

ALTER TABLE errand.jobs
  -- {"concurrency": {key, limit}, "rateLimit": {key, limit, perMs}}: the reserve-time part
  -- of the payload's flow; NULL for a job with neither (unique and recurring are settled at enqueue).
  ADD COLUMN flow jsonb,
  ADD COLUMN concurrency_key text,
  -- Order among the parked jobs of a key (FIFO); NULL unless parked.
  ADD COLUMN parked_seq bigint,
  -- Moved to a later run_at by its rate limit: reads as queued, not scheduled.
  ADD COLUMN deferred boolean NOT NULL DEFAULT false;

-- NOT VALID: existing rows passed the narrower check already; no scan of a large table.
ALTER TABLE errand.jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE errand.jobs ADD CONSTRAINT jobs_state_check
  CHECK (state IN ('available', 'parked', 'running', 'succeeded', 'failed', 'dead')) NOT VALID;

-- Live holders of a key (state running), and its jobs ready to be reserved (the sweep).
CREATE INDEX jobs_concurrency ON errand.jobs (concurrency_key, state)
  WHERE concurrency_key IS NOT NULL AND state IN ('available', 'running');
-- Parked jobs per key, oldest first; also the sweep's list of keys with parked jobs.
CREATE INDEX jobs_parked ON errand.jobs (concurrency_key, parked_seq) WHERE state = 'parked';

CREATE SEQUENCE errand.parked_order;

-- One row per unique key: its holder, the holder's `while` and expiry (NULL: none).
-- Rows whose holder no longer blocks are deleted by the retention pass (flow_retention).
CREATE TABLE errand.unique_locks (
  key text PRIMARY KEY,
  job_id uuid NOT NULL,
  blocks_while text NOT NULL CHECK (blocks_while IN ('queued', 'active', 'done')),
  expires_at timestamptz
);

-- Start times of rate-limited jobs, per key: the sliding windows. A reserve trims its key's
-- rows older than the window; rows of idle keys go at retention, once expired.
CREATE TABLE errand.rate_starts (
  key text NOT NULL,
  started_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX rate_starts_window ON errand.rate_starts (key, started_at);
CREATE INDEX rate_starts_expiring ON errand.rate_starts (expires_at);

-- Per recurring task: the last tick stored and its job.
CREATE TABLE errand.recurring (
  task text PRIMARY KEY,
  last_tick timestamptz NOT NULL,
  job_id uuid NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Takes the advisory locks of `p_keys` in `p_space`, in hash order (see the header). One
-- statement: the sorted subquery is not flattened into the outer one (it has an ORDER BY),
-- so the locks are taken row by row in its order. A PERFORM per key in a loop cost 1.6 µs
-- per key against 0.64 (1,000 keys, psql), and a batch of a drain names ~700 keys.
CREATE FUNCTION errand.flow_lock(p_space text, p_keys text[]) RETURNS void
LANGUAGE plpgsql STRICT AS $$
BEGIN
  PERFORM count(pg_advisory_xact_lock(hashtext('errand.jobs:' || p_space), s.h))
  FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(p_keys) AS k WHERE k IS NOT NULL ORDER BY 1) AS s;
END
$$;

-- Whether a unique key's holder, in this row state, blocks a new job (the spec's table).
-- Visible states: parked and deferred read as queued; available with an error as retrying.
CREATE FUNCTION errand.unique_blocks(p_while text, p_state text, p_error jsonb, p_deferred boolean) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE p_while
    WHEN 'queued' THEN p_state = 'parked' OR (p_state = 'available' AND (p_deferred OR p_error IS NULL))
    WHEN 'active' THEN p_state IN ('available', 'parked', 'running')
    WHEN 'done' THEN p_state IN ('available', 'parked', 'running', 'succeeded')
    ELSE false END
$$;

-- ---- enqueue: unique and recurring -----------------------------------------------------

-- Stores a batch in which some payloads carry flow, deciding each in order; one row per
-- payload, in order: the stored id, or the holder's (the task's) id with duplicate = true.
-- A duplicate stores nothing. Runs in the caller's transaction when there is one: the
-- advisory locks of the batch's keys are held until it ends, so a concurrent enqueue of one
-- of them waits for its commit, and then sees its holder (each statement here takes a fresh
-- snapshot). Under REPEATABLE READ or SERIALIZABLE the snapshot is the transaction's: a
-- holder committed meanwhile is not seen, and the insert into unique_locks fails with a
-- serialization error for the caller to retry.
-- The recurring CAS and the job's insert are one statement: the job is stored exactly when
-- the task's last tick moved to this one.
CREATE FUNCTION errand.enqueue_flow(p_payloads json, p_wake text, p_status text)
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
    decided AS MATERIALIZED (
      SELECT b.n, b.p, b.j, b.id, b.j->'flow'->'unique' AS u,
             (SELECT l.job_id FROM errand.unique_locks AS l JOIN errand.jobs AS j ON j.id = l.job_id
              WHERE b.j->'flow'->'unique' IS NOT NULL AND l.key = b.j->'flow'->'unique'->>'key' AND (l.expires_at IS NULL OR l.expires_at > now())
                AND errand.unique_blocks(l.blocks_while, j.state, j.error, j.deferred)) AS holder
      FROM batch AS b
    ),
    inserted AS (
      INSERT INTO errand.jobs (id, job, queue, priority, run_at, state, body, executions, enqueued_at, flow, concurrency_key)
      SELECT d.id, d.j->>'job', d.j->>'queue', (d.j->>'priority')::int, (d.j->>'runAt')::timestamptz, 'available', d.p::text,
             (d.j->>'executions')::int, (d.j->>'enqueuedAt')::timestamptz,
             nullif(jsonb_strip_nulls(jsonb_build_object('concurrency', d.j->'flow'->'concurrency', 'rateLimit', d.j->'flow'->'rateLimit')), '{}'::jsonb),
             d.j->'flow'->'concurrency'->>'key'
      FROM decided AS d WHERE d.holder IS NULL ORDER BY d.n
    ),
    locked AS (
      INSERT INTO errand.unique_locks AS u (key, job_id, blocks_while, expires_at)
      SELECT d.u->>'key', d.id, d.u->>'while',
             (d.j->>'enqueuedAt')::timestamptz + (d.u->>'forMs')::bigint * interval '1 millisecond'
      FROM decided AS d WHERE d.holder IS NULL AND d.u IS NOT NULL
      ON CONFLICT (key) DO UPDATE SET job_id = excluded.job_id, blocks_while = excluded.blocks_while, expires_at = excluded.expires_at
    )
    SELECT array_agg(coalesce(d.holder, d.id) ORDER BY d.n), array_agg(d.holder IS NOT NULL ORDER BY d.n),
           coalesce(array_agg(d.id ORDER BY d.n) FILTER (WHERE d.holder IS NULL), '{}'),
           coalesce(array_agg(d.j->>'queue') FILTER (WHERE d.holder IS NULL AND (d.j->>'runAt')::timestamptz <= now()), '{}')
    INTO v_out, v_dup, v_stored, v_due
    FROM decided AS d;
    RETURN QUERY SELECT o.id, o.dup FROM unnest(v_out, v_dup) WITH ORDINALITY AS o(id, dup, n) ORDER BY o.n;
    PERFORM pg_notify(p_wake, q) FROM (SELECT DISTINCT unnest(v_due) AS q) AS due;
    PERFORM errand.notify_uuids(p_status, nullif(v_stored, '{}'));
    RETURN;
  END IF;
  FOR v_p IN SELECT p FROM json_array_elements(p_payloads) AS p LOOP
    v_id := (v_p->>'id')::uuid;
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
    INSERT INTO errand.jobs (id, job, queue, priority, run_at, state, body, executions, enqueued_at, flow, concurrency_key)
    SELECT v_id, v_p->>'job', v_p->>'queue', (v_p->>'priority')::int, (v_p->>'runAt')::timestamptz, 'available', v_p::text,
           (v_p->>'executions')::int, (v_p->>'enqueuedAt')::timestamptz,
           nullif(jsonb_strip_nulls(jsonb_build_object('concurrency', v_p->'flow'->'concurrency', 'rateLimit', v_p->'flow'->'rateLimit')), '{}'::jsonb),
           v_p->'flow'->'concurrency'->>'key'
    WHERE v_recurring IS NULL OR EXISTS (SELECT 1 FROM cas);
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
    IF (v_p->>'runAt')::timestamptz <= now() THEN
      v_due := v_due || (v_p->>'queue');
    END IF;
    out_id := v_id;
    out_duplicate := false;
    RETURN NEXT;
  END LOOP;
  PERFORM pg_notify(p_wake, q) FROM (SELECT DISTINCT unnest(v_due) AS q) AS due;
  PERFORM errand.notify_uuids(p_status, nullif(v_stored, '{}'));
END
$$;
