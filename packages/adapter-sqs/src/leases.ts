/**
 * Which of a batch's deliveries hold a stale lease. The status store answers by job id, but
 * one batch may hold two deliveries of one job under different receipts: a standard queue
 * delivers a message twice now and then, and a job whose lease ran out is received again
 * while its first holder still runs it. Asking about both at once would mark the current
 * one stale with the other. So each job's distinct leases go to the store in separate
 * calls (side by side: the second call only exists for the jobs delivered twice), and the
 * answer is keyed by (id, lease).
 *
 * @module
 */
import type { Reservation, StatusLease, StatusStore } from "@errand/core/adapter";

import { handleOf } from "./attributes.js";

const key = (id: string, lease: string) => `${id}\n${lease}`;

/** The reservations among these whose lease the status store says is no longer current. */
export async function staleReservations<R extends Reservation>(status: StatusStore, reservations: readonly R[]): Promise<Set<R>> {
  // Round n holds each job's n-th distinct lease: within a round an id appears once.
  const rounds: StatusLease[][] = [];
  const seen = new Map<string, Set<string>>();
  for (const reservation of reservations) {
    const { jobId, receipt } = handleOf(reservation);
    if (!jobId) continue;
    const leases = seen.get(jobId) ?? new Set<string>();
    seen.set(jobId, leases);
    if (leases.has(receipt)) continue;
    (rounds[leases.size] ??= []).push({ id: jobId, lease: receipt });
    leases.add(receipt);
  }
  const answers = await Promise.all(
    rounds.map(async (round) => {
      const stale = await status.stale(round);
      return round.filter((lease) => stale.has(lease.id)).map((lease) => key(lease.id, lease.lease));
    }),
  );
  const stale = new Set(answers.flat());
  return new Set(
    reservations.filter((reservation) => {
      const { jobId, receipt } = handleOf(reservation);
      return jobId !== undefined && stale.has(key(jobId, receipt));
    }),
  );
}
