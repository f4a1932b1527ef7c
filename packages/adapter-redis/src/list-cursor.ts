/**
 * The cursors of the Redis adapter's `listJobs` pages: base64url JSON, opaque to callers,
 * tied to the listing they came from (state, queue, job class). What a cursor holds depends
 * on the order it goes on in (list-jobs.ts):
 *
 * - `queued`, one queue after the other by name: the queue, and where in it (list-jobs.lua's
 *   frontier: the phase and the last entry looked at), `[]` to start the queue.
 * - `scheduled`, `retrying`, `dead`, `running`, one order over every queue: the last key
 *   given or looked at (`[score, id]`, or `[id]` for running).
 * - `succeeded`, `failed`, newest first per queue, merged: each queue's own place in its
 *   list (`[id, index, bound]`), or `0` once its list is done.
 *
 * @module
 */
import { ConfigError, type JobState } from "@errand/core/adapter";

/** Where a listing goes on. */
export type Position =
  | { kind: "queued"; queue: string; at: string[] }
  | { kind: "ordered"; at: string[] }
  | { kind: "finished"; at: Record<string, string[] | 0> };

/** What a cursor was made for. */
export interface Listing {
  state: JobState;
  queue?: string;
  job?: string;
}

interface Encoded {
  v: 1;
  s: JobState;
  q?: string;
  j?: string;
  p: Position;
}

/** The cursor text of `position` in `listing`. */
export function encodeCursor(listing: Listing, position: Position): string {
  const encoded: Encoded = { v: 1, s: listing.state, p: position };
  if (listing.queue !== undefined) encoded.q = listing.queue;
  if (listing.job !== undefined) encoded.j = listing.job;
  return Buffer.from(JSON.stringify(encoded)).toString("base64url");
}

const KINDS: Record<JobState, Position["kind"]> = {
  queued: "queued",
  scheduled: "ordered",
  retrying: "ordered",
  dead: "ordered",
  running: "ordered",
  succeeded: "finished",
  failed: "finished",
};

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/** The position of `cursor`; a `ConfigError` when it is not a cursor of this adapter for `listing`. */
export function decodeCursor(listing: Listing, cursor: string): Position {
  let encoded: Encoded;
  try {
    encoded = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Encoded;
  } catch {
    throw new ConfigError(`redis adapter: listJobs cursor ${JSON.stringify(cursor.slice(0, 40))} is not a cursor this adapter gave`);
  }
  if (encoded?.v !== 1 || typeof encoded.p !== "object" || encoded.p === null) {
    throw new ConfigError(`redis adapter: listJobs cursor ${JSON.stringify(cursor.slice(0, 40))} is not a cursor this adapter gave`);
  }
  if (encoded.s !== listing.state || encoded.q !== listing.queue || encoded.j !== listing.job) {
    throw new ConfigError(
      `redis adapter: listJobs cursor was made for state ${JSON.stringify(encoded.s)}, queue ${JSON.stringify(encoded.q ?? null)}, job ${JSON.stringify(encoded.j ?? null)}; give it with the same state, queue and job`,
    );
  }
  const p = encoded.p;
  const valid =
    p.kind === KINDS[listing.state] &&
    ((p.kind === "queued" && typeof p.queue === "string" && isStrings(p.at)) ||
      (p.kind === "ordered" && isStrings(p.at)) ||
      (p.kind === "finished" && typeof p.at === "object" && p.at !== null && Object.values(p.at).every((at) => at === 0 || isStrings(at))));
  if (!valid) throw new ConfigError(`redis adapter: listJobs cursor ${JSON.stringify(cursor.slice(0, 40))} is damaged`);
  return p;
}
