/**
 * Reading reserve.lua's reply: the delay until the queue's next due job, then per leased
 * job seven fields (id, stored body, deliveries, job class, priority, enqueuedAt ms, runAt
 * ms; the class is nil for a verbatim body) and, after a `~` body (one that left its `flow`
 * to the record), the record's flow parts. Bodies are expanded back to the payload stored.
 *
 * @module
 */
import type { Reservation } from "@errand/core/adapter";

import { expandBody, type FlowFields } from "./body.js";

/** Where a reservation came from: the queue (for its keys) and the lease token of its call. */
export interface Handle {
  queue: string;
  token: string;
}

/** The handle of a reservation this adapter made. */
export function handleOf(reservation: Reservation): Handle {
  return reservation.handle as Handle;
}

/**
 * The flow fields reserve.lua sends after a `~` body from `at`: a string of part letters (u: uk uw,
 * c: ck cl, r: rk rl rp), then those fields; answers them and the index after them.
 */
function flowFieldsAt(reply: readonly string[], at: number): [FlowFields, number] {
  const parts = reply[at]!;
  const flow: FlowFields = {};
  let i = at + 1;
  for (const part of parts) {
    if (part === "u") [flow.uk, flow.uw, i] = [reply[i], reply[i + 1], i + 2];
    else if (part === "c") [flow.ck, flow.cl, i] = [reply[i], reply[i + 1], i + 2];
    else if (part === "r") [flow.rk, flow.rl, flow.rp, i] = [reply[i], reply[i + 1], reply[i + 2], i + 3];
    else throw new Error(`redis adapter: reserve sent an unknown flow part ${JSON.stringify(part)}`);
  }
  return [flow, i];
}

/**
 * The reservations in one reply of reserve.lua for `handle`'s queue and call, pushed onto
 * `into`; returns the ms until the queue's next scheduled job, retry or lease comes due
 * (negative: none).
 */
export function readReserveReply(reply: readonly (string | number)[], handle: Handle, into: Reservation[]): number {
  const { queue } = handle;
  for (let i = 1; i < reply.length; ) {
    const id = String(reply[i]);
    const stored = String(reply[i + 1]);
    // A verbatim body (layout 1, or written raw) comes without the record's fields; a
    // body without its `flow` (`~`) with the record's flow parts after them.
    const job = reply[i + 3];
    const next = i + 7;
    i = next;
    let flow: FlowFields | undefined;
    if (job !== null && stored.charCodeAt(0) === 126) [flow, i] = flowFieldsAt(reply as string[], next);
    const body =
      job === null
        ? stored
        : expandBody(stored, { id, queue, job: String(job), priority: Number(reply[next - 3]), enqueuedAt: Number(reply[next - 2]), runAt: Number(reply[next - 1]), flow });
    into.push({ providerJobId: id, body, deliveries: Number(reply[next - 5]), handle });
  }
  return Number(reply[0]);
}
