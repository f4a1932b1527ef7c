-- 021: an operator's interrupt (adapter/control.ts `JobAction` "interrupt"), beside abort. A
-- mark keeps its kind: `abort_marks` (014) and `status_aborts` (015) gain `kind` ('abort',
-- what every mark made before was; or 'interrupt'). An abort of a run replaces any mark; an
-- interrupt replaces any but an abort of the same run (the queries control-abort.sql and
-- status-abort.sql decide it in their ON CONFLICT). The beat (014's errand.heartbeat) answers
-- the two kinds apart: its result gains a column, so the function is dropped and made again.

ALTER TABLE errand.abort_marks ADD COLUMN kind text NOT NULL DEFAULT 'abort' CHECK (kind IN ('abort', 'interrupt'));
ALTER TABLE errand.status_aborts ADD COLUMN kind text NOT NULL DEFAULT 'abort' CHECK (kind IN ('abort', 'interrupt'));

DROP FUNCTION errand.heartbeat(text, jsonb, timestamptz, integer, boolean, integer, text[], bigint[], bigint[], uuid[]);

-- 014's beat, reading back the live marks of the jobs it runs by kind.
CREATE FUNCTION errand.heartbeat(p_id text, p_record jsonb, p_at timestamptz, p_ttl_ms integer, p_stopping boolean,
                                 p_minute integer, p_queues text[], p_succeeded bigint[], p_failed bigint[], p_running uuid[])
RETURNS TABLE (paused text[], abort uuid[], interrupt uuid[])
LANGUAGE plpgsql AS $$
BEGIN
  IF p_stopping THEN
    DELETE FROM errand.workers AS w WHERE w.id = p_id;
  ELSE
    INSERT INTO errand.workers AS w (id, record, last_beat_at, ttl_ms, kept_until)
    VALUES (p_id, p_record, p_at, p_ttl_ms, p_at + (p_ttl_ms * interval '1 millisecond') + interval '1 hour')
    ON CONFLICT (id) DO UPDATE SET record = excluded.record, last_beat_at = excluded.last_beat_at,
                                   ttl_ms = excluded.ttl_ms, kept_until = excluded.kept_until;
  END IF;
  IF cardinality(p_queues) > 0 THEN
    INSERT INTO errand.throughput AS t (queue, minute, succeeded, failed)
    SELECT c.queue, p_minute, sum(c.s), sum(c.f) FROM unnest(p_queues, p_succeeded, p_failed) AS c(queue, s, f)
    GROUP BY c.queue ORDER BY c.queue
    ON CONFLICT (queue, minute) DO UPDATE SET succeeded = t.succeeded + excluded.succeeded, failed = t.failed + excluded.failed;
  END IF;
  DELETE FROM errand.workers AS w WHERE w.kept_until < now();
  DELETE FROM errand.throughput AS t WHERE t.minute < p_minute - 1500;
  DELETE FROM errand.abort_marks AS a WHERE a.marked_at < now() - interval '1 hour';
  RETURN QUERY
  WITH live AS (
    SELECT a.job_id, a.kind FROM errand.abort_marks AS a
    JOIN errand.jobs AS j ON j.id = a.job_id AND j.lease_token = a.token AND j.state = 'running'
    WHERE a.job_id = ANY (p_running)
  )
  SELECT (SELECT coalesce(array_agg(p.queue ORDER BY p.queue), '{}') FROM errand.paused_queues AS p),
         (SELECT coalesce(array_agg(l.job_id), '{}') FROM live AS l WHERE l.kind = 'abort'),
         (SELECT coalesce(array_agg(l.job_id), '{}') FROM live AS l WHERE l.kind = 'interrupt');
END
$$;
