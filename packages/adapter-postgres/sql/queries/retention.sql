-- Deletes finished jobs (succeeded, failed) older than $1 ms, and those of the oldest
-- batches beyond the newest $2 jobs reserved (approximate: a batch counts the jobs it
-- leased that retention has not deleted yet, retried and dead ones included). Dead jobs
-- stay until purged. Bounded to $3 rows per call, and to $4 job ids looked at, from the
-- oldest batches, so a large backlog is cleared in small steps.
-- Migration 010: finished jobs keep their batch's token, and are reached by id from their
-- batch (no index on finished_at); tokens only grow, so batches in token order are oldest
-- first, and a batch reserved after the age cutoff holds no job finished before it. A batch
-- none of whose jobs holds its token any more (dead ones aside) goes too, open or not: no
-- job of it runs, so lease expiry has nothing to find there. (Waiting for expiry to close it
-- first kept every batch of the last lease period: the soak's steps re-probed 676k ids of
-- deleted jobs, 2M buffers and 2.2 s a step.)
-- The step's batches are chosen by the ids they hold, not by their number: up to 1,000
-- batches, while the jobs counted before each stay under $4. A step once took the oldest
-- 1,000 batches whatever their size; a backlog drained at full prefetch leaves batches of
-- 1,020 jobs, so a step probed a million ids and ran for tens of seconds (the 3M-job soak at
-- 18k jobs/s, 2026-12-03). A batch's count drops by the jobs a step deletes from it, so a
-- batch kept by one long-running job counts 1 and later steps look past it.
-- Jobs are looked up by id one at a time (the LATERAL … LIMIT 1 keeps the join a nested loop
-- of primary-key probes): joined plainly, the planner hashed the whole jobs table, a seq scan
-- per step (100k finished rows: 4,135 buffers, 31 ms of a 33 ms step of 2,000). SKIP LOCKED,
-- on the batches and on their jobs: workers catching up on a backlog run steps at once, and
-- take disjoint rows instead of waiting on (or deadlocking over) each other's.
-- The adapter runs a step every `retentionCheckMs`, and sooner while steps come back full,
-- in the background of its reserves (upkeep.ts).
WITH cut AS (
  SELECT coalesce((SELECT s.token FROM (SELECT b.token, sum(b.jobs) OVER (ORDER BY b.token DESC) AS n FROM errand.batches AS b) AS s
                   WHERE s.n > $2 LIMIT 1), 0) AS token
),
picked AS (
  SELECT s.token FROM (
    SELECT c.token, sum(c.jobs) OVER (ORDER BY c.token) - c.jobs AS before
    FROM (SELECT b.token, b.jobs FROM errand.batches AS b
          WHERE b.token <= (SELECT token FROM cut) OR b.reserved_at < now() - $1 * interval '1 millisecond'
          ORDER BY b.token LIMIT 1000) AS c
  ) AS s
  WHERE s.before < $4
),
oldest AS MATERIALIZED (
  SELECT b.token, b.ids FROM errand.batches AS b WHERE b.token IN (SELECT token FROM picked)
  FOR UPDATE SKIP LOCKED
),
doomed AS MATERIALIZED (
  SELECT j.id, oldest.token FROM oldest CROSS JOIN LATERAL unnest(oldest.ids) AS x(id)
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
-- On the statement's snapshot: a batch whose last jobs this step deletes goes at the next.
emptied AS (
  DELETE FROM errand.batches AS b USING oldest
  WHERE b.token = oldest.token
    AND NOT EXISTS (SELECT 1 FROM unnest(oldest.ids) AS x(id) JOIN errand.jobs AS j ON j.id = x.id
                    WHERE j.lease_token = oldest.token AND j.state <> 'dead')
),
-- Disjoint from `emptied`: a batch with jobs to delete still has holders in the snapshot.
counted AS (
  UPDATE errand.batches AS b SET jobs = greatest(b.jobs - d.n, 0)
  FROM (SELECT token, count(*) AS n FROM doomed GROUP BY token) AS d
  WHERE b.token = d.token
)
SELECT (SELECT count(*) FROM doomed) AS deleted
