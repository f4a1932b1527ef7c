-- Deletes finished jobs (succeeded, failed) older than $1 ms, and beyond the newest $2.
-- Dead jobs stay until purged. Bounded to $3 rows per call so a large backlog is cleared
-- in small steps instead of one long lock.
DELETE FROM errand.jobs WHERE id IN (
  SELECT id FROM errand.jobs
  WHERE state IN ('succeeded', 'failed')
    AND (finished_at < now() - $1 * interval '1 millisecond'
         -- jobs settled in one batch share finished_at: seq breaks the tie
         OR (finished_at, seq) <= (SELECT finished_at, seq FROM errand.jobs
                                   WHERE state IN ('succeeded', 'failed')
                                   ORDER BY finished_at DESC, seq DESC OFFSET $2 LIMIT 1))
  ORDER BY finished_at
  LIMIT $3
)
