/**
 * The adapter's background upkeep, run at the start of each reserve and throttled, so no
 * timer runs while nobody works.
 *
 * State: two deadlines. `nextLeaseCheck`: expired leases go back to ready, and flow
 * control's sweep un-parks what a dead process left parked — at most every `leaseCheckMs`.
 * `nextRetention`: finished jobs past retention, stale unique locks and old rate-window
 * starts are deleted in bounded steps — every `retentionCheckMs`, and sooner while steps
 * come back full (see {@link Upkeep.run}). Both start at 0: the first reserve does both.
 *
 * @module
 */
import type pg from "pg";

import type { Flow } from "./flow.js";
import type { QueryName } from "./sql.js";

/**
 * Finished jobs deleted per retention step. Bounded so that the reserve running it stalls
 * little: a step on a backlog of 100k finished rows took 14–37 ms at 2,000 and 59–131 ms at
 * 10,000 (EXPLAIN ANALYZE, 2 shared cores under load; 4 buffers per row deleted).
 */
export const RETENTION_STEP = 2000;

/** What the upkeep needs of its adapter. */
export interface UpkeepContext {
  /** Runs a named query of the adapter's own (autocommit, re-run on deadlock). */
  query<R extends pg.QueryResultRow>(name: QueryName, values: unknown[]): Promise<pg.QueryResult<R>>;
  flow: Flow;
  wakeChannel: string;
  /** The status channel, or null when the adapter publishes none. */
  statusChannel: string | null;
  retentionMs: number;
  maxFinished: number;
  leaseCheckMs: number;
  retentionCheckMs: number;
}

/** Lease expiry and retention, each at most as often as configured. */
export class Upkeep {
  private nextLeaseCheck = 0;
  private nextRetention = 0;

  constructor(private readonly context: UpkeepContext) {}

  /** Does whatever is due; called by each reserve before it looks for jobs. */
  async run(): Promise<void> {
    const { context } = this;
    const now = Date.now();
    if (now >= this.nextLeaseCheck) {
      this.nextLeaseCheck = now + context.leaseCheckMs;
      await context.query("expire-leases", [context.statusChannel, context.wakeChannel]);
      await context.flow.sweep();
    }
    if (now >= this.nextRetention) {
      this.nextRetention = now + context.retentionCheckMs;
      const started = Date.now();
      const { rows } = await context.query<{ deleted: string }>("retention", [context.retentionMs, context.maxFinished, RETENTION_STEP]);
      await context.flow.retention();
      // A full step may have left more behind: another runs at the first reserve after four
      // times the step's duration, until one comes back short. Each reserve leases at most
      // maxPrefetch (1,000) jobs and a step deletes up to twice that, so retention keeps up
      // with the drain while taking at most a fifth of a reserving worker's time.
      if (Number(rows[0]!.deleted) >= RETENTION_STEP) {
        const done = Date.now();
        this.nextRetention = Math.min(this.nextRetention, done + 4 * (done - started));
      }
    }
  }
}
