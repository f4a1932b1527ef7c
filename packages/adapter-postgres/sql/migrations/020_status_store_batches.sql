-- 020: batches kept by the status store for the SQS adapter (PostgresStatusStore.batches,
-- src/status-batches.ts; the contract: core's adapter/batch.ts and StatusStoreBatches).
-- Unused by the PostgreSQL adapter itself, whose batches live in job_batches (019).
--
-- Counting happens in the statements that write statuses: status-enqueued.sql calls
-- store_batch_enqueued, status-settled.sql store_batch_settled, status-delete.sql
-- store_batch_forget, each in the same statement as the status write (one transaction). A
-- batch that finishes there records its callbacks in that statement too: their statuses
-- (batch_callback) and their bodies as pending sends of the flow (store_flow_pending,
-- migration 008), which the adapter sends and confirms, and the sweep resends otherwise.
--
-- Each call locks its batch rows first, in id order, so two settles finishing the last jobs
-- of one batch take turns: the second sees the first's counts, and only one sees pending 0.

-- The batch a counted job belongs to; a callback's status is marked (its second delivery,
-- once finished, is void: status-deliveries.sql). Both constant defaults: no table rewrite.
ALTER TABLE errand.statuses ADD COLUMN batch_id text, ADD COLUMN batch_callback boolean NOT NULL DEFAULT false;

-- One row per batch. `callbacks`: kind -> { id, job, queue, priority, executions,
-- enqueued_at, run_at (ISO texts), body }, as core built them; `enqueued_callbacks`: kind ->
-- job id, once enqueued. `expires_at` is set once finished (its jobs' retention: deadTtlMs
-- with dead jobs, finishedTtlMs otherwise) and cleared while a job moved back counts again.
CREATE TABLE errand.store_batches (
  id text PRIMARY KEY,
  description text,
  state text NOT NULL CHECK (state IN ('open', 'running', 'finished')),
  total integer NOT NULL DEFAULT 0,
  pending integer NOT NULL DEFAULT 0,
  succeeded integer NOT NULL DEFAULT 0,
  discarded integer NOT NULL DEFAULT 0,
  dead integer NOT NULL DEFAULT 0,
  failed integer NOT NULL DEFAULT 0,
  callbacks jsonb NOT NULL,
  enqueued_callbacks jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  finished_at timestamptz,
  expires_at timestamptz
);
CREATE INDEX store_batches_expiring ON errand.store_batches (expires_at) WHERE expires_at IS NOT NULL;

-- Each job of a batch and the state it is counted in: p (pending), s (succeeded),
-- f (discarded), d (dead). What makes counting idempotent per job.
CREATE TABLE errand.store_batch_jobs (
  batch_id text NOT NULL REFERENCES errand.store_batches (id) ON DELETE CASCADE,
  job_id text NOT NULL,
  counted char(1) NOT NULL CHECK (counted IN ('p', 's', 'f', 'd')),
  PRIMARY KEY (batch_id, job_id)
);

-- Locks the batch rows of a call, in id order; fails naming the first id it does not hold.
CREATE FUNCTION errand.store_batch_lock(p_ids text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_missing text;
BEGIN
  PERFORM 1 FROM errand.store_batches WHERE id = ANY(p_ids) ORDER BY id FOR UPDATE;
  SELECT i INTO v_missing FROM unnest(p_ids) AS i
  WHERE NOT EXISTS (SELECT 1 FROM errand.store_batches AS b WHERE b.id = i AND (b.expires_at IS NULL OR b.expires_at > now()))
  LIMIT 1;
  IF v_missing IS NOT NULL THEN
    RAISE EXCEPTION 'errand: unknown batch % (not opened, or expired)', v_missing USING ERRCODE = 'P0002';
  END IF;
END
$$;

-- StatusStoreBatches.open: p_batches a JSON array of { id, description, created_at, callbacks }.
-- An id stored already fails the call, naming it. Up to 100 expired batches go per call.
CREATE FUNCTION errand.store_batch_open(p_batches jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_n integer;
  v_taken text;
BEGIN
  DELETE FROM errand.store_batches WHERE id IN (
    SELECT id FROM errand.store_batches WHERE expires_at <= now() ORDER BY expires_at LIMIT 100 FOR UPDATE SKIP LOCKED);
  SELECT b.id INTO v_taken FROM jsonb_array_elements(p_batches) AS e, errand.store_batches AS b WHERE b.id = e->>'id' LIMIT 1;
  IF v_taken IS NOT NULL THEN
    RAISE EXCEPTION 'errand: batch % is stored already', v_taken USING ERRCODE = '23505';
  END IF;
  INSERT INTO errand.store_batches (id, description, state, callbacks, created_at)
  SELECT e->>'id', e->>'description', 'open', e->'callbacks', (e->>'created_at')::timestamptz
  FROM jsonb_array_elements(p_batches) AS e;
  GET DIAGNOSTICS v_n = ROW_COUNT;
  RETURN v_n;
END
$$;

-- Finishes a batch (its row locked by the caller) when it is sealed and has no pending job:
-- records each callback that applies and was not enqueued before (complete always, success
-- with no discarded or dead job, failure otherwise) as a queued status and a pending send.
-- Returns those pending sends as a JSON array of { id, token, queue, body, run_at, taken }.
-- p_taken: their taken time (ms), now unless given: 0 leaves them to the next sweep of any
-- process (a cancel, whose caller gets no pending sends back).
CREATE FUNCTION errand.store_batch_finish(p_id text, p_finished_ttl_ms bigint, p_dead_ttl_ms bigint, p_channel text, p_taken bigint DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_b errand.store_batches;
  v_kind text;
  v_cb jsonb;
  v_failed boolean;
  v_now bigint := errand.store_flow_ms(now());
  v_taken bigint := coalesce(p_taken, errand.store_flow_ms(now()));
  v_token text;
  v_out jsonb := '[]';
  v_ids text[] := '{}';
BEGIN
  SELECT * INTO v_b FROM errand.store_batches WHERE id = p_id;
  IF NOT FOUND OR v_b.state = 'open' OR v_b.pending > 0 THEN RETURN v_out; END IF;
  v_failed := v_b.discarded + v_b.dead > 0;
  FOREACH v_kind IN ARRAY ARRAY['complete', 'success', 'failure'] LOOP
    v_cb := v_b.callbacks -> v_kind;
    CONTINUE WHEN v_cb IS NULL OR v_b.enqueued_callbacks ? v_kind;
    CONTINUE WHEN (v_kind = 'success' AND v_failed) OR (v_kind = 'failure' AND NOT v_failed);
    INSERT INTO errand.statuses (id, job, queue, priority, state, executions, enqueued_at, run_at, updated_at, body, batch_callback)
    VALUES (v_cb->>'id', v_cb->>'job', v_cb->>'queue', (v_cb->>'priority')::integer,
            CASE WHEN (v_cb->>'run_at')::timestamptz > now() THEN 'scheduled' ELSE 'queued' END,
            (v_cb->>'executions')::integer, (v_cb->>'enqueued_at')::timestamptz, (v_cb->>'run_at')::timestamptz, now(),
            v_cb->>'body', true)
    ON CONFLICT (id) DO NOTHING;
    v_token := 'b' || v_now || '-' || v_kind;
    INSERT INTO errand.store_flow_pending (id, token, queue, body, run_at, taken)
    VALUES (v_cb->>'id', v_token, v_cb->>'queue', v_cb->>'body', errand.store_flow_ms((v_cb->>'run_at')::timestamptz), v_taken)
    ON CONFLICT (id) DO NOTHING;
    v_out := v_out || jsonb_build_array(jsonb_build_object('id', v_cb->>'id', 'token', v_token, 'queue', v_cb->>'queue', 'body', v_cb->>'body',
      'run_at', errand.store_flow_ms((v_cb->>'run_at')::timestamptz), 'taken', v_taken));
    v_b.enqueued_callbacks := v_b.enqueued_callbacks || jsonb_build_object(v_kind, v_cb->>'id');
    v_ids := v_ids || (v_cb->>'id');
  END LOOP;
  UPDATE errand.store_batches
  SET state = 'finished', finished_at = coalesce(finished_at, now()), enqueued_callbacks = v_b.enqueued_callbacks,
      expires_at = now() + (CASE WHEN dead > 0 THEN greatest(p_finished_ttl_ms, p_dead_ttl_ms) ELSE p_finished_ttl_ms END) * interval '1 millisecond'
  WHERE id = p_id;
  PERFORM errand.notify_ids(p_channel, v_ids);
  RETURN v_out;
END
$$;

-- StatusStoreBatches.seal: open batches become running and finish when no job is pending.
-- An unknown id fails the call, naming it. Returns the callbacks' pending sends (JSON array).
CREATE FUNCTION errand.store_batch_seal(p_ids text[], p_finished_ttl_ms bigint, p_dead_ttl_ms bigint, p_channel text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_id text;
  v_out jsonb := '[]';
BEGIN
  PERFORM errand.store_batch_lock(p_ids);
  FOR v_id IN UPDATE errand.store_batches SET state = 'running' WHERE id = ANY(p_ids) AND state = 'open' RETURNING id LOOP
    v_out := v_out || errand.store_batch_finish(v_id, p_finished_ttl_ms, p_dead_ttl_ms, p_channel);
  END LOOP;
  RETURN v_out;
END
$$;

-- Counts enqueued jobs into their batches (status-enqueued.sql; each job once per call): a
-- new member adds to total and pending, one counted finished (a dead job moved back) goes
-- back to pending, one counted pending (a resend) counts nothing. An unknown batch fails the
-- call (and so the statement that stored the statuses), naming it.
CREATE FUNCTION errand.store_batch_enqueued(p_ids text[], p_batches text[]) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
  IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN RETURN 0; END IF;
  PERFORM errand.store_batch_lock(ARRAY(SELECT DISTINCT b FROM unnest(p_batches) AS b));
  WITH e AS (
    SELECT e.batch_id, e.job_id, j.counted FROM unnest(p_batches, p_ids) AS e(batch_id, job_id)
    LEFT JOIN errand.store_batch_jobs AS j ON j.batch_id = e.batch_id AND j.job_id = e.job_id
  ),
  d AS (
    SELECT batch_id, count(*) FILTER (WHERE counted IS NULL) AS fresh, count(*) FILTER (WHERE counted = 's') AS s,
           count(*) FILTER (WHERE counted = 'f') AS f, count(*) FILTER (WHERE counted = 'd') AS dd
    FROM e WHERE counted IS DISTINCT FROM 'p' GROUP BY batch_id
  )
  UPDATE errand.store_batches AS b
  SET total = b.total + d.fresh, pending = b.pending + d.fresh + d.s + d.f + d.dd,
      succeeded = b.succeeded - d.s, discarded = b.discarded - d.f, dead = b.dead - d.dd, expires_at = NULL
  FROM d WHERE b.id = d.batch_id;
  INSERT INTO errand.store_batch_jobs AS j (batch_id, job_id, counted)
  SELECT e.batch_id, e.job_id, 'p' FROM unnest(p_batches, p_ids) AS e(batch_id, job_id)
  ON CONFLICT (batch_id, job_id) DO UPDATE SET counted = 'p' WHERE j.counted <> 'p';
  RETURN cardinality(p_ids);
END
$$;

-- Counts current settlements of batches' jobs (status-settled.sql passes the rows it
-- settled: stale settlements and finished jobs never reach here). Outcomes: succeeded,
-- failed (discarded), dead count the job finished once; retry adds to failed. Batches whose
-- pending count reached 0 finish. Returns the callbacks' pending sends (JSON array).
-- Also called by status-cancel.sql (a cancelled job counts as discarded), with p_taken 0.
CREATE FUNCTION errand.store_batch_settled(p_ids text[], p_batches text[], p_outcomes text[], p_finished_ttl_ms bigint, p_dead_ttl_ms bigint, p_channel text,
                                           p_taken bigint DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_id text;
  v_out jsonb := '[]';
BEGIN
  IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN RETURN v_out; END IF;
  -- A batch gone (expired) counts nothing: lock what is there, without failing.
  PERFORM 1 FROM errand.store_batches WHERE id = ANY(p_batches) ORDER BY id FOR UPDATE;
  WITH s AS (
    SELECT * FROM unnest(p_ids, p_batches, p_outcomes) AS s(job_id, batch_id, outcome)
  ),
  moved AS (
    UPDATE errand.store_batch_jobs AS j
    SET counted = CASE s.outcome WHEN 'succeeded' THEN 's' WHEN 'failed' THEN 'f' ELSE 'd' END
    FROM s
    WHERE j.batch_id = s.batch_id AND j.job_id = s.job_id AND j.counted = 'p' AND s.outcome IN ('succeeded', 'failed', 'dead')
    RETURNING j.batch_id, j.counted
  ),
  retried AS (
    SELECT s.batch_id, count(*) AS n FROM s JOIN errand.store_batch_jobs AS j ON j.batch_id = s.batch_id AND j.job_id = s.job_id AND j.counted = 'p'
    WHERE s.outcome = 'retry' GROUP BY s.batch_id
  ),
  d AS (
    SELECT coalesce(m.batch_id, r.batch_id) AS batch_id, coalesce(m.s, 0) AS s, coalesce(m.f, 0) AS f, coalesce(m.dd, 0) AS dd, coalesce(r.n, 0) AS r
    FROM (SELECT batch_id, count(*) FILTER (WHERE counted = 's') AS s, count(*) FILTER (WHERE counted = 'f') AS f,
                 count(*) FILTER (WHERE counted = 'd') AS dd FROM moved GROUP BY batch_id) AS m
    FULL JOIN retried AS r ON r.batch_id = m.batch_id
  )
  UPDATE errand.store_batches AS b
  SET succeeded = b.succeeded + d.s, discarded = b.discarded + d.f, dead = b.dead + d.dd, failed = b.failed + d.r,
      pending = b.pending - d.s - d.f - d.dd
  FROM d WHERE b.id = d.batch_id;
  FOR v_id IN SELECT DISTINCT b FROM unnest(p_batches) AS b ORDER BY 1 LOOP
    v_out := v_out || errand.store_batch_finish(v_id, p_finished_ttl_ms, p_dead_ttl_ms, p_channel, p_taken);
  END LOOP;
  RETURN v_out;
END
$$;

-- Takes deleted jobs counted pending out of their batches (status-delete.sql: an enqueue
-- the backend refused). Jobs counted finished stay counted.
CREATE FUNCTION errand.store_batch_forget(p_ids text[], p_batches text[]) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
  IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN RETURN 0; END IF;
  PERFORM 1 FROM errand.store_batches WHERE id = ANY(p_batches) ORDER BY id FOR UPDATE;
  WITH gone AS (
    DELETE FROM errand.store_batch_jobs AS j USING unnest(p_batches, p_ids) AS g(batch_id, job_id)
    WHERE j.batch_id = g.batch_id AND j.job_id = g.job_id AND j.counted = 'p'
    RETURNING j.batch_id
  )
  UPDATE errand.store_batches AS b SET total = b.total - d.n, pending = b.pending - d.n
  FROM (SELECT batch_id, count(*) AS n FROM gone GROUP BY batch_id) AS d WHERE b.id = d.batch_id;
  RETURN cardinality(p_ids);
END
$$;
