/**
 * Rows of the jobs table as the adapter reads them: a status row's visible state, and a
 * reserved row.
 *
 * @module
 */
import type { JobState } from "@errand/core/adapter";

import type { StatusColumns } from "./status-row.js";

/** A row of get-status.sql. */
export interface StatusRow extends StatusColumns {
  /** The jobs table's own state (`available` covers queued, scheduled and retrying; `parked` is queued). */
  state: string;
  future: boolean;
  /** Moved later by a rate limit: queued, whatever its run_at. */
  deferred: boolean;
}

/** A row of reserve-*.sql, in picking order. */
export interface ReservedRow {
  id: string;
  body: string;
  /** NULL for a job flow control parked or deferred instead of leasing it. */
  lease_token: string | null;
  executions: number;
  priority: number;
  /** `run_at` in epoch ms, for a narrow body (body.ts); NULL for a full one. */
  run_ms: string | null;
}

/**
 * The visible state of a jobs row. `available` is queued, scheduled (run_at later) or
 * retrying (an error kept from the run before); a job a rate limit deferred (run_at moved
 * later) and a parked one (its concurrency key full) read as queued.
 */
export function statusState(row: StatusRow): JobState {
  if (row.state === "available") return row.deferred ? "queued" : row.error ? "retrying" : row.future ? "scheduled" : "queued";
  if (row.state === "parked") return "queued";
  return row.state as JobState;
}
