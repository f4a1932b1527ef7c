-- 005: status feeds. Every statement that changes job statuses NOTIFYs the ids it changed
-- on a status channel (the adapter's: `errand:<schema>:status`; the status store's:
-- `errand:<schema>:statuses`), which `openStatusFeed` LISTENs on. One call per statement,
-- not per job: the ids go as JSON arrays, as many per notification as fit.
--
-- Nothing is sent while no feed listens. Sending costs more than the call: a transaction
-- that NOTIFYs takes a lock that serializes the commits of all such transactions of the
-- server, WAL flush included, so workers' reserves and settles would stop committing
-- together. Each feed's connection holds a shared session lock on the channel's 16 presence
-- slots (advisory locks (hashtext(channel), 0..15)); a writer tries an exclusive lock on the
-- slot of its connection (pg_backend_pid() % 16) until its commit, and sends only when that
-- fails: a feed is there (or, now and then, another writer on the same slot: a needless but
-- harmless notification). A feed takes its locks after its LISTEN and resolves once it has
-- them, so it waits for the writers that found no feed to commit: any change made after the
-- feed resolved is notified.
--
-- A NOTIFY payload must stay under 8,000 bytes. An id in a payload takes 39 bytes for a
-- UUID (36, its quotes and a comma): 200 per notification is 7,801 bytes. A channel of NULL
-- (the adapter's `publishStatus: false`) sends nothing: the functions are STRICT, so they
-- are not even called. NOTIFY is delivered at commit, so a change inside a caller's
-- transaction is reported once it is visible, and never when rolled back.

-- The jobs table's ids (uuid, fixed length): 200 per notification. PL/pgSQL, not SQL: a
-- PL/pgSQL function's plans are cached per connection, a SQL function's are made at every
-- call. Measured (backend CPU, reserve 100 + settle 100 per job): 67.5 µs without the
-- notifications, 85 µs with them through a SQL function, 70 µs through this one.
CREATE FUNCTION errand.notify_uuids(p_channel text, p_ids uuid[]) RETURNS integer
LANGUAGE plpgsql STRICT AS $$
DECLARE
  v_count integer := cardinality(p_ids);
  v_from integer := 1;
BEGIN
  IF pg_try_advisory_xact_lock(hashtext(p_channel), pg_backend_pid() % 16) THEN
    RETURN 0; -- no feed listens
  END IF;
  WHILE v_from <= v_count LOOP
    PERFORM pg_notify(p_channel, '["' || array_to_string(p_ids[v_from:v_from + 199], '","') || '"]');
    v_from := v_from + 200;
  END LOOP;
  RETURN (v_count + 199) / 200;
END
$$;

-- The status store's ids (text, any length): as many as fit in 7,900 bytes of JSON. An id
-- whose JSON alone would not fit is sent as "" (never an Errand job id, which is not
-- empty): a feed takes it as "something changed that could not be named" and reads every
-- watched job again.
CREATE FUNCTION errand.notify_ids(p_channel text, p_ids text[]) RETURNS integer
LANGUAGE plpgsql STRICT AS $$
DECLARE
  v_chunk text[] := '{}';
  v_bytes integer := 0;
  v_sent integer := 0;
  v_id text;
  v_size integer;
BEGIN
  IF pg_try_advisory_xact_lock(hashtext(p_channel), pg_backend_pid() % 16) THEN
    RETURN 0; -- no feed listens
  END IF;
  FOREACH v_id IN ARRAY p_ids LOOP
    v_size := octet_length(to_json(v_id)::text) + 1;
    IF v_size > 7900 THEN
      v_id := '';
      v_size := 3;
    END IF;
    IF v_bytes + v_size > 7900 THEN
      PERFORM pg_notify(p_channel, array_to_json(v_chunk)::text);
      v_sent := v_sent + 1;
      v_chunk := '{}';
      v_bytes := 0;
    END IF;
    v_chunk := v_chunk || v_id;
    v_bytes := v_bytes + v_size;
  END LOOP;
  IF v_bytes > 0 THEN
    PERFORM pg_notify(p_channel, array_to_json(v_chunk)::text);
    v_sent := v_sent + 1;
  END IF;
  RETURN v_sent;
END
$$;
