-- 018: enqueue_flow (006, 017) is idempotent by job id, as enqueue.sql and
-- enqueue-uniform.sql are: a payload whose id is stored already is neither stored again nor
-- announced, and is answered as stored (its id, duplicate false). Core makes job ids (UUIDv7),
-- so an id that comes again is the same job sent again: the outbox relay resends the batch it
-- was killed before deleting (docs/transactions-outbox.md, docs/architecture.md "Enqueue is
-- idempotent by job id"). Before, the resend hit the primary key and failed the whole call,
-- round after round. A resent unique job takes no lock again and is not answered as a
-- duplicate of itself, nor is a resent recurring tick (the tick's CAS did so before). The
-- function is 017's with: `resent` read first (one probe of the primary key per job, made
-- under the batch's unique-key locks), the insert `ON CONFLICT (id) DO NOTHING` for a resend
-- racing another (the row-by-row path answers it as stored), and locks and wake-ups taken
-- from the rows inserted.

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
      INSERT INTO errand.jobs (id, job, queue, priority, run_at, state, body, executions, enqueued_at, flow, concurrency_key)
      SELECT d.id, d.j->>'job', d.j->>'queue', (d.j->>'priority')::int, (d.j->>'runAt')::timestamptz, 'available', d.p::text,
             (d.j->>'executions')::int, (d.j->>'enqueuedAt')::timestamptz,
             nullif(jsonb_strip_nulls(jsonb_build_object('concurrency', d.j->'flow'->'concurrency', 'rateLimit', d.j->'flow'->'rateLimit')), '{}'::jsonb),
             d.j->'flow'->'concurrency'->>'key'
      FROM decided AS d WHERE d.holder IS NULL AND NOT d.resent ORDER BY d.n
      ON CONFLICT (id) DO NOTHING
      RETURNING id
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
           coalesce(array_agg(d.j->>'queue') FILTER (WHERE i.id IS NOT NULL AND (d.j->>'runAt')::timestamptz <= statement_timestamp()), '{}')
    INTO v_out, v_dup, v_stored, v_due
    FROM decided AS d LEFT JOIN inserted AS i ON i.id = d.id;
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
    INSERT INTO errand.jobs (id, job, queue, priority, run_at, state, body, executions, enqueued_at, flow, concurrency_key)
    SELECT v_id, v_p->>'job', v_p->>'queue', (v_p->>'priority')::int, (v_p->>'runAt')::timestamptz, 'available', v_p::text,
           (v_p->>'executions')::int, (v_p->>'enqueuedAt')::timestamptz,
           nullif(jsonb_strip_nulls(jsonb_build_object('concurrency', v_p->'flow'->'concurrency', 'rateLimit', v_p->'flow'->'rateLimit')), '{}'::jsonb),
           v_p->'flow'->'concurrency'->>'key'
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
    IF (v_p->>'runAt')::timestamptz <= statement_timestamp() THEN
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
