/**
 * Job statuses as a backend stores and reports them: the record {@link Adapter.getStatus}
 * answers with, the error it keeps, and the status feed through which a backend tells this
 * process that statuses changed. Core turns a record into the public `JobStatus`.
 *
 * @module
 */

import type { Adapter } from "./contract.js";

/** An error as stored in status and the dead set. */
export interface StoredError {
  name: string;
  message: string;
  /** `ErrandError` code, when the error is one. */
  code?: string;
  stack?: string;
}

/** Job states as stored. `retrying` means failed and waiting for its next attempt. */
export type JobState = "scheduled" | "queued" | "running" | "succeeded" | "retrying" | "failed" | "dead";

/** A job's state as a backend stores it; core turns it into the public `JobStatus`. */
export interface StatusRecord {
  id: string;
  job: string;
  queue: string;
  priority: number;
  state: JobState;
  executions: number;
  progress?: { fraction: number; message?: string };
  /** superjson text of the result. */
  result?: string;
  error?: StoredError;
  enqueuedAt: Date;
  runAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  updatedAt: Date;
}

/**
 * Options of {@link Adapter.openStatusFeed}: where the feed reports. Both callbacks must
 * return quickly (core only marks ids and schedules a read); they are never awaited.
 */
export interface StatusFeedOptions {
  /**
   * Jobs whose status changed (any write: enqueue, reserve, progress, settle, revival,
   * purge). Ids only: core reads the statuses it cares about with `getStatus`, so a feed
   * may report ids nobody watches, report one change several times, or merge several
   * changes of a job into one report. It must never leave out a change made while the
   * feed was connected.
   */
  onChange(ids: readonly string[]): void;
  /**
   * The feed's connection was lost and is back: changes in between may have been missed,
   * so core reads every watched job again. Called after each reconnection, never for the
   * first connection.
   */
  onReconnect(): void;
}

/** An open status feed. */
export interface StatusFeed {
  /** Stops reporting and releases what the feed holds (its subscription or listener connection). */
  close(): Promise<void>;
}

/** Options of {@link Adapter.getStatus}. */
export interface GetStatusOptions {
  ids: string[];
}
