-- Deletes finished jobs (succeeded, failed) older than $1 ms, and those of the oldest
-- batches beyond the newest $2 jobs reserved (approximate: a batch counts the jobs it
-- leased, retried and dead ones included). Dead jobs stay until purged. Bounded to $3 rows
-- per call, from the oldest 1,000 batches, so a large backlog is cleared in small steps.
-- Migration 010: finished jobs keep their batch's token, and are reached by id from their
-- batch (no index on finished_at); tokens only grow, so batches in token order are oldest
-- first, and a batch reserved after the age cutoff holds no job finished before it. A batch
-- none of whose jobs holds its token any more (dead ones aside) goes too, open or not: no
-- job of it runs, so lease expiry has nothing to find there. (Waiting for expiry to close it
-- first kept every batch of the last lease period: the soak's steps re-probed 676k ids of
-- deleted jobs, 2M buffers and 2.2 s a step.)
-- Jobs are looked up by id one at a time (the LATERAL … LIMIT 1 keeps the join a nested loop
-- of primary-key probes): joined plainly, the planner hashed the whole jobs table, a seq scan
-- per step (100k finished rows: 4,135 buffers, 31 ms of a 33 ms step of 2,000). SKIP LOCKED:
-- workers catching up on a backlog run steps at once (adapter.ts), and take disjoint rows
-- instead of waiting on (or deadlocking over) each other's.
-- The adapter runs a step every `retentionCheckMs`, and sooner while steps come back full
-- (adapter.ts).
WITH cut AS (
  SELECT coalesce((SELECT s.token FROM (SELECT b.token, sum(b.jobs) OVER (ORDER BY b.token DESC) AS n FROM errand.batches AS b) AS s
                   WHERE s.n > $2 LIMIT 1), 0) AS token
),
oldest AS MATERIALIZED (
  SELECT b.token, b.open, b.ids FROM errand.batches AS b
  WHERE b.token <= (SELECT token FROM cut) OR b.reserved_at < now() - $1 * interval '1 millisecond'
  ORDER BY b.token LIMIT 1000
),
doomed AS (
  SELECT j.id FROM oldest CROSS JOIN LATERAL unnest(oldest.ids) AS x(id)
  CROSS JOIN LATERAL (
    SELECT j.id FROM errand.jobs AS j
    WHERE j.id = x.id AND j.lease_token = oldest.token AND j.state IN ('succeeded', 'failed')
      AND (oldest.token <= (SELECT token FROM cut) OR j.finished_at < now() - $1 * interval '1 millisecond')
    LIMIT 1
    FOR UPDATE SKIP LOCKED) AS j
  LIMIT $3
),
deleted AS (
  DELETE FROM errand.jobs WHERE id IN (SELECT id FROM doomed)
),
emptied AS (
  DELETE FROM errand.batches AS b USING oldest
  WHERE b.token = oldest.token
    AND NOT EXISTS (SELECT 1 FROM unnest(oldest.ids) AS x(id) JOIN errand.jobs AS j ON j.id = x.id
                    WHERE j.lease_token = oldest.token AND j.state <> 'dead')
)
SELECT (SELECT count(*) FROM doomed) AS deleted
