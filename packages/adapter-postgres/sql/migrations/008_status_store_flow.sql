-- 008: flow control kept by the status store for the SQS adapter (PostgresStatusStore.flow,
-- src/status-flow.ts): unique locks, recurring ticks, pending sends, concurrency slots,
-- parked jobs, rate windows. Unused by the PostgreSQL adapter itself.
--
-- Every step is one function call (one statement); items are decided in order. Steps on the
-- same key are serialized by transaction-scoped advisory locks on hashtext('errand:flow:' ||
-- <kind> || key), each call taking all of its keys first, sorted (two calls never wait on
-- each other in a cycle). Times compared with the adapter's (a pending send's `taken`) are
-- epoch ms in bigint, so they come back exactly as they went.

-- A unique key's holder, its `while` and the expiry of its hold (NULL: none). A lock whose
-- holder no longer blocks is deleted by the sweep in bounded steps (store_flow_sweep).
CREATE TABLE errand.store_flow_locks (
  key text PRIMARY KEY,
  holder text NOT NULL,
  while_state text NOT NULL CHECK (while_state IN ('queued', 'active', 'done')),
  expires_at timestamptz
);

-- A recurring task's last stored tick and its job.
CREATE TABLE errand.store_flow_recurring (
  task text PRIMARY KEY,
  last_tick timestamptz NOT NULL,
  job_id text NOT NULL
);

-- Bodies handed to the adapter to send (claims, parked jobs let go), kept until it confirms
-- the send. `taken` (ms) is when the current sender took the entry; the sweep hands entries
-- taken longer ago than the adapter's bound to the process that asks. A claim remembers its
-- unique key and task, and the task's tick before it, so an undo puts them back.
CREATE TABLE errand.store_flow_pending (
  id text PRIMARY KEY,
  token text NOT NULL,
  queue text NOT NULL,
  body text NOT NULL,
  run_at bigint NOT NULL,
  taken bigint NOT NULL,
  unique_key text,
  task text,
  prev_tick timestamptz,
  prev_job text
);
CREATE INDEX store_flow_pending_taken ON errand.store_flow_pending (taken);

-- Concurrency slots: one per leased job of a key, ending with its lease (extended with it).
CREATE TABLE errand.store_flow_slots (
  key text NOT NULL,
  id text NOT NULL,
  ends_at timestamptz NOT NULL,
  PRIMARY KEY (key, id)
);
CREATE INDEX store_flow_slots_ends ON errand.store_flow_slots (ends_at);

-- Parked jobs, FIFO per key by `seq`, with their bodies and the limit they carried.
CREATE TABLE errand.store_flow_parked (
  id text PRIMARY KEY,
  key text NOT NULL,
  lim integer NOT NULL,
  queue text NOT NULL,
  body text NOT NULL,
  seq bigserial
);
CREATE INDEX store_flow_parked_key ON errand.store_flow_parked (key, seq);
CREATE INDEX store_flow_parked_queue ON errand.store_flow_parked (queue);

-- Rate windows: one row per start, kept until `until` (start + perMs).
CREATE TABLE errand.store_flow_starts (
  key text NOT NULL,
  at timestamptz NOT NULL,
  until timestamptz NOT NULL
);
CREATE INDEX store_flow_starts_key ON errand.store_flow_starts (key, at);
CREATE INDEX store_flow_starts_until ON errand.store_flow_starts (until);

-- Deferred jobs (rate limit) and when they may start, per queue, for the counts: a row is
-- replaced at each deferral, dropped when the job is leased or parked, swept once past.
CREATE TABLE errand.store_flow_deferred (
  id text PRIMARY KEY,
  queue text NOT NULL,
  until timestamptz NOT NULL
);
CREATE INDEX store_flow_deferred_queue ON errand.store_flow_deferred (queue, until);

-- The message a parked job came in: a copy of it received again is dropped, not run.
ALTER TABLE errand.statuses ADD COLUMN parked_message text;

CREATE FUNCTION errand.store_flow_ms(p_at timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT floor(extract(epoch FROM p_at) * 1000)::bigint $$;

-- Takes the advisory locks of a call's keys, sorted.
CREATE FUNCTION errand.store_flow_lock(p_keys text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('errand:flow:' || k))
  FROM (SELECT DISTINCT k FROM unnest(p_keys) AS k WHERE k IS NOT NULL ORDER BY k) AS keys;
END
$$;

-- Lets go up to p_n parked jobs of a key, oldest first, as pending sends (token u<ms>-<n>).
CREATE FUNCTION errand.store_flow_unpark(p_key text, p_n integer)
RETURNS TABLE (o_id text, o_token text, o_queue text, o_body text, o_run_at bigint, o_taken bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_now bigint := errand.store_flow_ms(now());
  v_row record;
  v_n integer := 0;
BEGIN
  IF p_n <= 0 THEN RETURN; END IF;
  FOR v_row IN
    DELETE FROM errand.store_flow_parked
    WHERE id IN (SELECT id FROM errand.store_flow_parked WHERE key = p_key ORDER BY seq LIMIT p_n)
    RETURNING id, queue, body, seq
  LOOP
    v_n := v_n + 1;
    INSERT INTO errand.store_flow_pending (id, token, queue, body, run_at, taken)
    VALUES (v_row.id, 'u' || v_now || '-' || v_row.seq, v_row.queue, v_row.body, v_now, v_now)
    ON CONFLICT (id) DO UPDATE SET token = excluded.token, queue = excluded.queue, body = excluded.body,
      run_at = excluded.run_at, taken = excluded.taken, unique_key = NULL, task = NULL, prev_tick = NULL, prev_job = NULL;
    o_id := v_row.id; o_token := 'u' || v_now || '-' || v_row.seq; o_queue := v_row.queue; o_body := v_row.body;
    o_run_at := v_now; o_taken := v_now;
    RETURN NEXT;
  END LOOP;
END
$$;

-- StatusStoreFlow.claim. Returns one row per job, in order: o_claimed, o_job (the holder's or
-- task's job for a duplicate), o_taken (ms, for a claim).
CREATE FUNCTION errand.store_flow_claim(
  p_ids text[], p_jobs text[], p_queues text[], p_priorities integer[], p_executions integer[],
  p_enqueued_at timestamptz[], p_run_at timestamptz[], p_bodies text[], p_unique_keys text[],
  p_whiles text[], p_for_ms bigint[], p_tasks text[], p_ticks timestamptz[], p_tokens text[], p_channel text)
RETURNS TABLE (o_claimed boolean, o_job text, o_taken bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_now bigint := errand.store_flow_ms(now());
  v_dup text;
  v_prev_tick timestamptz;
  v_prev_job text;
  v_ids text[] := '{}';
BEGIN
  PERFORM errand.store_flow_lock(array(SELECT 'u:' || k FROM unnest(p_unique_keys) AS k) || array(SELECT 'r:' || k FROM unnest(p_tasks) AS k));
  FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
    v_dup := NULL;
    IF p_tasks[i] IS NOT NULL THEN
      SELECT job_id INTO v_dup FROM errand.store_flow_recurring WHERE task = p_tasks[i] AND last_tick >= p_ticks[i];
    END IF;
    IF v_dup IS NULL AND p_unique_keys[i] IS NOT NULL THEN
      SELECT l.holder INTO v_dup
      FROM errand.store_flow_locks AS l JOIN errand.statuses AS s ON s.id = l.holder
      WHERE l.key = p_unique_keys[i] AND (l.expires_at IS NULL OR l.expires_at > now())
        AND (s.expires_at IS NULL OR s.expires_at > now())
        AND s.state = ANY (CASE l.while_state
                             WHEN 'queued' THEN ARRAY['scheduled', 'queued']
                             WHEN 'active' THEN ARRAY['scheduled', 'queued', 'running', 'retrying']
                             ELSE ARRAY['scheduled', 'queued', 'running', 'retrying', 'succeeded'] END);
    END IF;
    IF v_dup IS NOT NULL THEN
      o_claimed := false; o_job := v_dup; o_taken := NULL;
      RETURN NEXT;
      CONTINUE;
    END IF;
    -- The status, as status-enqueued.sql records it.
    INSERT INTO errand.statuses AS s (id, job, queue, priority, state, executions, enqueued_at, run_at, updated_at)
    VALUES (p_ids[i], p_jobs[i], p_queues[i], p_priorities[i], CASE WHEN p_run_at[i] > now() THEN 'scheduled' ELSE 'queued' END,
            p_executions[i], p_enqueued_at[i], p_run_at[i], now())
    ON CONFLICT (id) DO UPDATE
    SET job = excluded.job, queue = excluded.queue, priority = excluded.priority, state = excluded.state,
        executions = excluded.executions, enqueued_at = excluded.enqueued_at, run_at = excluded.run_at,
        updated_at = excluded.updated_at, progress = NULL, result = NULL, error = NULL, started_at = NULL,
        finished_at = NULL, lease = NULL, expires_at = NULL, parked_message = NULL;
    IF p_unique_keys[i] IS NOT NULL THEN
      INSERT INTO errand.store_flow_locks (key, holder, while_state, expires_at)
      VALUES (p_unique_keys[i], p_ids[i], p_whiles[i], p_enqueued_at[i] + p_for_ms[i] * interval '1 millisecond')
      ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, while_state = excluded.while_state, expires_at = excluded.expires_at;
    END IF;
    v_prev_tick := NULL;
    v_prev_job := NULL;
    IF p_tasks[i] IS NOT NULL THEN
      SELECT last_tick, job_id INTO v_prev_tick, v_prev_job FROM errand.store_flow_recurring WHERE task = p_tasks[i];
      INSERT INTO errand.store_flow_recurring (task, last_tick, job_id) VALUES (p_tasks[i], p_ticks[i], p_ids[i])
      ON CONFLICT (task) DO UPDATE SET last_tick = excluded.last_tick, job_id = excluded.job_id;
    END IF;
    INSERT INTO errand.store_flow_pending (id, token, queue, body, run_at, taken, unique_key, task, prev_tick, prev_job)
    VALUES (p_ids[i], p_tokens[i], p_queues[i], p_bodies[i], errand.store_flow_ms(p_run_at[i]), v_now, p_unique_keys[i], p_tasks[i],
            v_prev_tick, v_prev_job)
    ON CONFLICT (id) DO UPDATE SET token = excluded.token, queue = excluded.queue, body = excluded.body, run_at = excluded.run_at,
      taken = excluded.taken, unique_key = excluded.unique_key, task = excluded.task, prev_tick = excluded.prev_tick, prev_job = excluded.prev_job;
    v_ids := v_ids || p_ids[i];
    o_claimed := true; o_job := p_ids[i]; o_taken := v_now;
    RETURN NEXT;
  END LOOP;
  PERFORM errand.notify_ids(p_channel, v_ids);
END
$$;

-- StatusStoreFlow.undo: claims whose send failed, forgotten as if never enqueued. An entry
-- taken since by another process (its `taken` changed) is left to it.
CREATE FUNCTION errand.store_flow_undo(p_ids text[], p_tokens text[], p_taken bigint[], p_channel text) RETURNS integer
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_row record;
  v_ids text[] := '{}';
BEGIN
  PERFORM errand.store_flow_lock(array(
    SELECT k FROM errand.store_flow_pending AS p, LATERAL unnest(ARRAY['u:' || p.unique_key, 'r:' || p.task]) AS k
    WHERE p.id = ANY (p_ids)));
  FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
    DELETE FROM errand.store_flow_pending WHERE id = p_ids[i] AND token = p_tokens[i] AND taken = p_taken[i]
    RETURNING unique_key, task, prev_tick, prev_job INTO v_row;
    IF FOUND THEN
      IF v_row.unique_key IS NOT NULL THEN
        DELETE FROM errand.store_flow_locks WHERE key = v_row.unique_key AND holder = p_ids[i];
      END IF;
      IF v_row.task IS NOT NULL THEN
        IF v_row.prev_tick IS NULL THEN
          DELETE FROM errand.store_flow_recurring WHERE task = v_row.task AND job_id = p_ids[i];
        ELSE
          UPDATE errand.store_flow_recurring SET last_tick = v_row.prev_tick, job_id = v_row.prev_job WHERE task = v_row.task AND job_id = p_ids[i];
        END IF;
      END IF;
      DELETE FROM errand.statuses WHERE id = p_ids[i];
      v_ids := v_ids || p_ids[i];
    END IF;
  END LOOP;
  PERFORM errand.notify_ids(p_channel, v_ids);
  RETURN cardinality(v_ids);
END
$$;

-- StatusStoreFlow.acquire. Returns one row per delivery, in order: o_outcome 'l' leased,
-- 'p' parked (or a copy of a parked job's message), 'd' deferred until o_until (ms).
CREATE FUNCTION errand.store_flow_acquire(
  p_ids text[], p_lease_ms bigint[], p_messages text[], p_queues text[], p_bodies text[],
  p_ckeys text[], p_climits integer[], p_rkeys text[], p_rlimits integer[], p_rpers bigint[], p_channel text)
RETURNS TABLE (o_outcome text, o_until bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_count integer;
  v_oldest timestamptz;
  v_changed text[] := '{}';
  v_state text;
BEGIN
  PERFORM errand.store_flow_lock(array(SELECT 'c:' || k FROM unnest(p_ckeys) AS k) || array(SELECT 'w:' || k FROM unnest(p_rkeys) AS k));
  FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
    o_outcome := NULL; o_until := NULL;
    IF EXISTS (SELECT 1 FROM errand.statuses WHERE id = p_ids[i] AND parked_message = p_messages[i])
       OR EXISTS (SELECT 1 FROM errand.store_flow_parked WHERE id = p_ids[i]) THEN
      o_outcome := 'p';
    END IF;
    IF o_outcome IS NULL AND p_rkeys[i] IS NOT NULL THEN
      DELETE FROM errand.store_flow_starts WHERE key = p_rkeys[i] AND at <= now() - p_rpers[i] * interval '1 millisecond';
      SELECT count(*), min(at) INTO v_count, v_oldest FROM errand.store_flow_starts WHERE key = p_rkeys[i];
      IF v_count >= p_rlimits[i] THEN
        o_outcome := 'd';
        o_until := errand.store_flow_ms(v_oldest) + p_rpers[i];
        INSERT INTO errand.store_flow_deferred (id, queue, until)
        VALUES (p_ids[i], p_queues[i], v_oldest + p_rpers[i] * interval '1 millisecond')
        ON CONFLICT (id) DO UPDATE SET queue = excluded.queue, until = excluded.until;
      END IF;
    END IF;
    IF o_outcome IS NULL AND p_ckeys[i] IS NOT NULL THEN
      DELETE FROM errand.store_flow_slots WHERE key = p_ckeys[i] AND ends_at <= now();
      IF NOT EXISTS (SELECT 1 FROM errand.store_flow_slots WHERE key = p_ckeys[i] AND id = p_ids[i])
         AND (SELECT count(*) FROM errand.store_flow_slots WHERE key = p_ckeys[i]) >= p_climits[i] THEN
        INSERT INTO errand.store_flow_parked (id, key, lim, queue, body) VALUES (p_ids[i], p_ckeys[i], p_climits[i], p_queues[i], p_bodies[i])
        ON CONFLICT (id) DO NOTHING;
        SELECT state INTO v_state FROM errand.statuses WHERE id = p_ids[i] AND state IS NOT NULL;
        UPDATE errand.statuses
        SET parked_message = p_messages[i],
            state = CASE WHEN state IN ('retrying', 'scheduled') THEN 'queued' ELSE state END,
            updated_at = CASE WHEN state IN ('retrying', 'scheduled') THEN now() ELSE updated_at END
        WHERE id = p_ids[i] AND state IS NOT NULL;
        IF v_state IN ('retrying', 'scheduled') THEN v_changed := v_changed || p_ids[i]; END IF;
        o_outcome := 'p';
      END IF;
    END IF;
    IF o_outcome IS DISTINCT FROM 'd' THEN
      DELETE FROM errand.store_flow_deferred WHERE id = p_ids[i];
    END IF;
    IF o_outcome IS NULL THEN
      IF p_ckeys[i] IS NOT NULL THEN
        INSERT INTO errand.store_flow_slots (key, id, ends_at) VALUES (p_ckeys[i], p_ids[i], now() + p_lease_ms[i] * interval '1 millisecond')
        ON CONFLICT (key, id) DO UPDATE SET ends_at = excluded.ends_at;
      END IF;
      IF p_rkeys[i] IS NOT NULL THEN
        INSERT INTO errand.store_flow_starts (key, at, until) VALUES (p_rkeys[i], now(), now() + p_rpers[i] * interval '1 millisecond');
      END IF;
      o_outcome := 'l';
    END IF;
    RETURN NEXT;
  END LOOP;
  PERFORM errand.notify_ids(p_channel, v_changed);
END
$$;

-- StatusStoreFlow.release: frees each slot and lets go one parked job of its key.
CREATE FUNCTION errand.store_flow_release(p_ids text[], p_ckeys text[])
RETURNS TABLE (o_id text, o_token text, o_queue text, o_body text, o_run_at bigint, o_taken bigint)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM errand.store_flow_lock(array(SELECT 'c:' || k FROM unnest(p_ckeys) AS k));
  FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
    IF p_ckeys[i] IS NOT NULL THEN
      DELETE FROM errand.store_flow_slots WHERE key = p_ckeys[i] AND id = p_ids[i];
      RETURN QUERY SELECT * FROM errand.store_flow_unpark(p_ckeys[i], 1);
    END IF;
  END LOOP;
END
$$;

-- StatusStoreFlow.sweep: pending sends taken more than p_timeout_ms ago (renewed: the caller
-- takes them), then for up to p_limit keys with parked jobs up to (limit − live slots) of
-- them let go; then bounded retention of ended slots, old starts and locks that no longer
-- block (expired, or a holder whose status is gone or finished: it can only be replaced).
CREATE FUNCTION errand.store_flow_sweep(p_timeout_ms bigint, p_limit integer)
RETURNS TABLE (o_id text, o_token text, o_queue text, o_body text, o_run_at bigint, o_taken bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_now bigint := errand.store_flow_ms(now());
  v_key record;
  v_free integer;
  v_budget integer := p_limit;
  v_got integer;
BEGIN
  RETURN QUERY
  UPDATE errand.store_flow_pending AS p SET taken = v_now
  FROM (SELECT id FROM errand.store_flow_pending WHERE taken <= v_now - p_timeout_ms ORDER BY taken LIMIT p_limit FOR UPDATE SKIP LOCKED) AS due
  WHERE p.id = due.id
  RETURNING p.id, p.token, p.queue, p.body, p.run_at, p.taken;
  FOR v_key IN SELECT DISTINCT ON (key) key, lim FROM errand.store_flow_parked ORDER BY key, seq DESC LIMIT p_limit LOOP
    EXIT WHEN v_budget <= 0;
    PERFORM errand.store_flow_lock(ARRAY['c:' || v_key.key]);
    DELETE FROM errand.store_flow_slots WHERE key = v_key.key AND ends_at <= now();
    v_free := least(v_budget, v_key.lim - (SELECT count(*) FROM errand.store_flow_slots WHERE key = v_key.key)::integer);
    IF v_free > 0 THEN
      RETURN QUERY SELECT * FROM errand.store_flow_unpark(v_key.key, v_free);
      GET DIAGNOSTICS v_got = ROW_COUNT;
      v_budget := v_budget - v_got;
    END IF;
  END LOOP;
  DELETE FROM errand.store_flow_slots WHERE ctid = ANY (array(SELECT ctid FROM errand.store_flow_slots WHERE ends_at <= now() LIMIT p_limit));
  DELETE FROM errand.store_flow_starts WHERE ctid = ANY (array(SELECT ctid FROM errand.store_flow_starts WHERE until <= now() LIMIT p_limit));
  DELETE FROM errand.store_flow_deferred WHERE ctid = ANY (array(SELECT ctid FROM errand.store_flow_deferred WHERE until <= now() LIMIT p_limit));
  DELETE FROM errand.store_flow_locks WHERE key IN (
    SELECT l.key FROM errand.store_flow_locks AS l
    WHERE l.expires_at <= now()
       OR NOT EXISTS (SELECT 1 FROM errand.statuses AS s
                      WHERE s.id = l.holder AND s.state IS NOT NULL AND s.finished_at IS NULL
                        AND (s.expires_at IS NULL OR s.expires_at > now()))
          AND l.while_state <> 'done'
       OR NOT EXISTS (SELECT 1 FROM errand.statuses AS s
                      WHERE s.id = l.holder AND s.state IS NOT NULL AND (s.expires_at IS NULL OR s.expires_at > now()))
    LIMIT p_limit FOR UPDATE SKIP LOCKED);
END
$$;
