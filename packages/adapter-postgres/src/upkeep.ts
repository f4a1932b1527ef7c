/**
 * The adapter's background upkeep, started by each reserve and throttled, so no timer runs
 * while nobody works.
 *
 * State: two deadlines and a retention run. `nextLeaseCheck`: expired leases go back to
 * ready, and flow control's sweep un-parks what a dead process left parked — at most every
 * `leaseCheckMs`, and sooner while calls come back full; the reserve waits for it (a call
 * looks at a bounded number of ids). `nextRetention`: finished jobs past retention, stale
 * unique locks and old rate-window starts are deleted in bounded steps, and the count log
 * is folded (migration 014) — every
 * `retentionCheckMs`, and sooner while steps come back full. A retention step runs beside
 * the reserve, never in its way: `retention` holds the step in flight (one at a time per
 * adapter); a step that failed leaves its error in `failed`, and the next reserve throws it
 * (once), so it is reported where the worker reports a failed reserve and the step is tried
 * again at the next deadline. Both deadlines start at 0: the first reserve does both.
 *
 * Why beside: a retention step held up its reserve for its whole duration. In the 3M-job
 * soak at 18k jobs/s a step over batches of 1,020 jobs ran for tens of seconds, and both
 * workers started nothing for 110 s (2026-12-03; the steps are bounded by ids now too).
 *
 * @module
 */
import type pg from "pg";

import type { Flow } from "./flow.js";
import type { QueryName } from "./sql.js";

/**
 * Finished jobs deleted per retention step. Bounded so that a step stays short: a step on a
 * backlog of 100k finished rows took 14–37 ms at 2,000 and 59–131 ms at 10,000 (EXPLAIN
 * ANALYZE, 2 shared cores under load; 4 buffers per row deleted).
 */
export const RETENTION_STEP = 2000;

/**
 * Job ids a retention step looks at (retention.sql `$4`): twice a step, so batches whose
 * jobs are partly gone or still running do not stop a step short, and no batch size can
 * make one long.
 */
export const RETENTION_IDS = 2 * RETENTION_STEP;

/**
 * Job ids a lease check looks at (expire-leases.sql `$3`). A call of 10,000 probes takes
 * ~20–40 ms; a worker reserves at most `maxPrefetch` (1,000) jobs a call, so at one check a
 * second per worker the checks keep up with 10k jobs/s per worker, and full calls are
 * followed sooner.
 */
export const EXPIRY_IDS = 10_000;

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

/** After a full call, the next one may start after this many times its duration. */
const CATCH_UP_FACTOR = 4;

/** Lease expiry and retention, each at most as often as configured. */
export class Upkeep {
  private nextLeaseCheck = 0;
  private nextRetention = 0;
  private retention: Promise<void> | undefined;
  private failed: { error: unknown } | undefined;

  constructor(private readonly context: UpkeepContext) {}

  /**
   * Does whatever is due; called by each reserve before it looks for jobs. Waits for the
   * lease check, starts a retention step without waiting for it.
   * @throws the error of the last retention step, when it failed (once).
   */
  async run(): Promise<void> {
    if (this.failed !== undefined) {
      const { error } = this.failed;
      this.failed = undefined;
      throw error;
    }
    const now = Date.now();
    if (now >= this.nextRetention && this.retention === undefined) {
      this.nextRetention = now + this.context.retentionCheckMs;
      this.retention = this.retentionStep(now)
        .catch((error: unknown) => {
          this.failed = { error };
        })
        .finally(() => {
          this.retention = undefined;
        });
    }
    if (now >= this.nextLeaseCheck) {
      this.nextLeaseCheck = now + this.context.leaseCheckMs;
      await this.leaseCheck(now);
    }
  }

  /** Resolves once no retention step is in flight (the adapter's close waits for it). */
  async idle(): Promise<void> {
    await this.retention;
  }

  private async leaseCheck(started: number): Promise<void> {
    const { context } = this;
    const { rows } = await context.query<{ batches: string; looked: string }>("expire-leases", [context.statusChannel, context.wakeChannel, EXPIRY_IDS]);
    await context.flow.sweep();
    if (Number(rows[0]!.looked) >= EXPIRY_IDS || Number(rows[0]!.batches) >= 1000) this.catchUp("lease", started);
  }

  private async retentionStep(started: number): Promise<void> {
    const { context } = this;
    const { rows } = await context.query<{ deleted: string }>("retention", [context.retentionMs, context.maxFinished, RETENTION_STEP, RETENTION_IDS]);
    await context.flow.retention();
    // Finished batch records go with the finished jobs' age (migration 019), a step at a time.
    await context.query("batch-retention", [context.retentionMs, RETENTION_STEP]);
    // The count log (migration 014) gains a row per statement and queue; folded here, it
    // stays at about one row per queue and kind while workers run.
    await context.query("fold-counts", []);
    // A full step may have left more behind: another starts at the first reserve after four
    // times the step's duration, until one comes back short. Each reserve leases at most
    // maxPrefetch (1,000) jobs and a step deletes up to twice that, so retention keeps up
    // with the drain while busy at most a fifth of the time.
    if (Number(rows[0]!.deleted) >= RETENTION_STEP) this.catchUp("retention", started);
  }

  private catchUp(which: "lease" | "retention", started: number): void {
    const done = Date.now();
    const next = done + CATCH_UP_FACTOR * (done - started);
    if (which === "lease") this.nextLeaseCheck = Math.min(this.nextLeaseCheck, next);
    else this.nextRetention = Math.min(this.nextRetention, next);
  }
}
