/**
 * The arguments settle.lua takes per settlement (its header lists them): five per outcome,
 * seven for a retry, bodies compacted against what the record keeps (body.ts).
 *
 * @module
 */
import type { Settlement } from "@errand/core/adapter";

import { compactBody } from "./body.js";
import { handleOf } from "./reserve-reply.js";

/** Appends settlement `s` of a job of `queue` to settle.lua's arguments. */
export function pushSettlement(args: (string | number)[], queue: string, s: Settlement): void {
  const { token } = handleOf(s.reservation);
  const id = s.reservation.providerJobId;
  switch (s.outcome) {
    case "succeeded":
      args.push(id, token, "s", s.result ?? "", s.result === undefined ? "" : "1");
      break;
    case "failed":
      args.push(id, token, "f", JSON.stringify(s.error), "");
      break;
    case "dead":
      args.push(id, token, "d", JSON.stringify(s.error), s.payload ? compactBody(s.payload, { id, queue }) : "");
      break;
    case "retry":
      // The record's priority and runAt become these; its job class and enqueuedAt stay.
      args.push(id, token, "r", JSON.stringify(s.error), compactBody(s.payload, { id, queue, priority: s.payload.priority, runAt: s.runAt.getTime() }), s.runAt.getTime(), s.payload.priority);
      break;
    case "released":
      args.push(id, token, "l", "", "");
      break;
  }
}
