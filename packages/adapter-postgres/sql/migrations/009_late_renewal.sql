-- 009: a late renewal of a concurrency-slot holder is refused (issue 13).
--
-- A slot lives exactly as long as its holder's lease: flow_admit (006) counts a key's
-- holders as its running jobs with lease_until > now(), so once a holder's deadline has
-- passed another job of the key may be leased in its place, before the upkeep returns the
-- holder (expire-leases). A renewal arriving then (a GC pause, a stalled event loop, a
-- network blip) used to succeed and bring the key one above its limit until the next settle.
-- Now such a renewal is refused, whether or not another job took the slot: the job is
-- reported lost, core aborts it as for any lost lease, and expire-leases returns it later.
-- A plain job (concurrency_key NULL) is renewed exactly as before, late or not, while no
-- one took it back.
--
-- The race this closes: a reserve counting the holder as expired while the renewal, begun
-- just before the deadline, has not committed yet; both would then hold the key. The
-- renewal takes the key's advisory lock (006's 'reserve' space, the lock flow_admit counts
-- under) and reads the clock after it: either the reserve counts after the renewal's commit
-- (and sees the pushed deadline), or the renewal reads the clock after the reserve's commit,
-- later than the deadline the reserve saw as passed, and refuses. Lock order is the one of
-- settle, expiry and reserve: the job rows first (FOR UPDATE, the renewed holders only),
-- then the advisory locks; so the renewal adds no deadlock with them (a settle holding a
-- row and waiting for the key's lock is waited for, not waited on).
CREATE FUNCTION errand.extend_leases(p_ids uuid[], p_tokens bigint[], p_lease_ms integer)
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
  UPDATE errand.jobs AS jobs
  SET lease_until = now() + p_lease_ms * interval '1 millisecond', updated_at = now()
  FROM unnest(p_ids, p_tokens) AS h(id, token)
  WHERE jobs.id = h.id AND jobs.lease_token = h.token AND jobs.state = 'running'
    AND (jobs.concurrency_key IS NULL OR jobs.lease_until > clock_timestamp())
  RETURNING jobs.id;
END
$$;
