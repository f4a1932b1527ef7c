/**
 * The dead set's part of the adapter contract: listing, retrying and purging dead jobs.
 * `contract.ts` re-exports it.
 *
 * @module
 */
import type { StoredError } from "./status.js";
import type { JobPayload } from "./payload.js";

/** Options of {@link Adapter.listDead}. */
export interface ListDeadOptions {
  queue?: string;
  /** Most entries to return; default 100. */
  limit?: number;
  /** Entries to skip, newest first; default 0. */
  offset?: number;
}

/** One entry of the dead set. */
export interface DeadJob {
  /** Errand job id, or the provider id when the payload could not be parsed. */
  id: string;
  providerJobId: string;
  queue: string;
  /** The stored payload text, exactly as it was. */
  body: string;
  error: StoredError;
  diedAt: Date;
}

/** Selects dead jobs: by id, or all of them (optionally those of one queue). */
export type DeadSelection = { ids: string[] } | { all: true; queue?: string };

/** A dead job as core revived it: the payload to store again and its encoded body. */
export interface RevivedJob {
  /** The new payload: `executions` reset, due now; store its `queue`, `priority`, `runAt`. */
  payload: JobPayload;
  /** `payload` encoded, the text to store. */
  body: string;
}

/** Options of {@link Adapter.retryDead}. */
export interface RetryDeadOptions {
  select: DeadSelection;
  /**
   * Core's decision for one dead body: the job to store again, or `null` when it cannot
   * run (not a valid payload: it would only die again), in which case it stays dead. The
   * adapter stores what it is given and parses nothing itself.
   */
  revive(body: string): RevivedJob | null;
}

/** Options of {@link Adapter.purgeDead}. */
export interface PurgeDeadOptions {
  select: DeadSelection;
}
