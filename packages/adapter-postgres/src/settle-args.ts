/**
 * The one statement a settle batch becomes. A batch of successes only (the drain's common
 * case) goes as `settle-succeeded`, one JSON array of (id, lease token, result) rows;
 * anything mixed goes as `settle`, one array per column: the outcome as stored (a retry and
 * a release make the job `available` again), the payload to store (a retry's, or a dead
 * job's), a retry's run time, queue and priority, the result, the error, and whether it was
 * a release (which counts no execution).
 *
 * @module
 */
import type { Settlement } from "@errand/core/adapter";

import type { QueryName } from "./sql.js";

/** The statement and its values for `settlements`, NOTIFYing `statusChannel` (null: none) and `wakeChannel`. */
export function settleStatement(settlements: readonly Settlement[], statusChannel: string | null, wakeChannel: string): { name: QueryName; values: unknown[] } {
  if (settlements.every((s) => s.outcome === "succeeded")) {
    const rows = JSON.stringify(settlements.map((s) => [s.reservation.providerJobId, s.reservation.handle, s.outcome === "succeeded" ? (s.result ?? null) : null]));
    return { name: "settle-succeeded", values: [rows, statusChannel, wakeChannel] };
  }
  const column = <T>(read: (s: Settlement) => T) => settlements.map(read);
  return {
    name: "settle",
    values: [
      column((s) => s.reservation.providerJobId),
      column((s) => s.reservation.handle),
      column((s) => (s.outcome === "retry" || s.outcome === "released" ? "available" : s.outcome)),
      column((s) => (s.outcome === "retry" || (s.outcome === "dead" && s.payload) ? JSON.stringify(s.payload) : null)),
      column((s) => (s.outcome === "retry" ? s.runAt : null)),
      column((s) => (s.outcome === "retry" ? s.payload.queue : null)),
      column((s) => (s.outcome === "retry" ? s.payload.priority : null)),
      column((s) => (s.outcome === "succeeded" ? (s.result ?? null) : null)),
      column((s) => ("error" in s ? JSON.stringify(s.error) : null)),
      column((s) => s.outcome === "released"),
      statusChannel,
      wakeChannel,
    ],
  };
}
