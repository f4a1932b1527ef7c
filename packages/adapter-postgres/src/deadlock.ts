/**
 * Deadlocks between the adapter's own statements. A worker's settle, its lease renewal and
 * its progress each update several running jobs in one statement, on separate pool
 * connections, and PostgreSQL locks the rows in whatever order the plan visits them: two of
 * them holding a job each and wanting the other's is a deadlock, and PostgreSQL aborts one
 * (SQLSTATE 40P01, after `deadlock_timeout`, 1 s by default). Seen in the fault suite under
 * kill -9 ("settle failed: deadlock detected").
 *
 * Locking rows in id order first (`SELECT … ORDER BY id FOR UPDATE`) would prevent it, but
 * one 2,020-job settle then took 12 s (its lock's plan became a sequential scan re-checked
 * per row while reserve updated rows concurrently) and bench:postgres's drain at c=1 fell
 * from 22k to 1.1k jobs/s. These statements are idempotent instead — every one matches rows by lease token
 * and state, so running it again after its rollback changes exactly what the first would
 * have — and the aborted one is simply run again. Deadlocks are rare, so the cost is a
 * second's wait when one happens, and nothing otherwise.
 *
 * @module
 */

/** Statements run again when PostgreSQL aborts them to break a deadlock. */
export const RERUN_ON_DEADLOCK: ReadonlySet<string> = new Set([
  "settle",
  "settle-succeeded",
  "extend-leases",
  "set-progress",
  "expire-leases",
  // Flow control's upkeep (migration 006): the sweep and retention decide again from what
  // they find, so a re-run changes what the first would have. The flow functions take their
  // advisory locks in one sorted pass and never wait for a row lock while holding one, so
  // they add no deadlock of their own; the settle and expiry statements, which now free
  // slots, stay re-runnable: a rolled-back un-park is simply done again.
  "flow-sweep",
  "flow-retention",
  // Retention deletes what it finds past age or count: a re-run deletes the same. Workers
  // catching up on a backlog run it at once; its jobs are taken with SKIP LOCKED, but two
  // steps may still both delete an emptied batch.
  "retention",
  // Batch records past retention (migration 019): SKIP LOCKED, and a re-run deletes the same.
  "batch-retention",
  // Sealing batches (019): batch rows only, locked in id order; a re-run of a rolled-back
  // seal finds the same rows and finishes the same batches (callbacks ON CONFLICT DO NOTHING).
  "batch-seal",
]);

/** Attempts in all before the deadlock error is reported (each waits `deadlock_timeout` at most). */
const ATTEMPTS = 4;

/** Runs `statement`, again while it fails with a deadlock (SQLSTATE 40P01), up to four times in all. */
export async function rerunOnDeadlock<T>(first: Promise<T>, statement: () => Promise<T>): Promise<T> {
  let attempt = 1;
  let pending = first;
  for (;;) {
    try {
      return await pending;
    } catch (error) {
      if ((error as { code?: unknown }).code !== "40P01" || attempt >= ATTEMPTS) throw error;
      attempt++;
      pending = statement();
    }
  }
}
