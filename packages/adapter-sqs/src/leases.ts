/**
 * Which of a batch's deliveries hold a stale lease. The status store answers by job id, but
 * one batch may hold two deliveries of one job under different receipts: a standard queue
 * delivers a message twice now and then, and a job whose lease ran out is received again
 * while its first holder still runs it. Asking about both at once would mark the current
 * one stale with the other. So each job's distinct leases go to the store in separate
 * calls (side by side: the second call only exists for the jobs delivered twice), and the
 * answer is keyed by (id, lease).
 *
 * Renewals ({@link extendLeases}) are visibility changes, never past SQS's 12 hours after a
 * receive; a stale delivery, or one whose concurrency slot ended, is reported lost.
 *
 * @module
 */
import { groupBy, type Reservation, type StatusLease, type StatusStore } from "@errand/core/adapter";

import { handleOf } from "./attributes.js";
import type { SqsFlow } from "./flow.js";
import { MAX_VISIBILITY_SECONDS, visibilitySeconds } from "./limits.js";
import type { Sender } from "./sending.js";

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

/** What renewing leases needs of its adapter. */
export interface LeaseContext {
  status: StatusStore;
  /** Flow control, when the status store is shared and has it: slots live as long as leases. */
  flow: SqsFlow | undefined;
  sender: Sender;
}

/** Pushes out the leases of `reservations`; answers the provider ids whose lease was lost. */
export async function extendLeases(adapter: LeaseContext, reservations: readonly Reservation[], leaseMs: number): Promise<string[]> {
  if (reservations.length === 0) return [];
  const stale = await staleReservations(adapter.status, reservations);
  const lost = reservations.filter((r) => stale.has(r)).map((r) => r.providerJobId);
  // Concurrency slots live as long as the leases (visibility timeouts) that hold them: a
  // slot that ended (a late renewal; another job may hold it now) is not taken again, and
  // its lease is reported lost and left to run out (the message is received again). The
  // store is asked first, and only about reservations holding a slot.
  const current = reservations.filter((r) => !stale.has(r));
  const slotLost = new Set(adapter.flow ? await adapter.flow.extend(current, leaseMs) : []);
  for (const r of slotLost) lost.push(r.providerJobId);
  const now = Date.now();
  const byQueue = groupBy(
    current.filter((r) => !slotLost.has(r)),
    (r) => handleOf(r).queue,
  );
  await Promise.all([
    ...[...byQueue].map(async ([queue, group]) => {
      // SQS keeps a message hidden at most 12 h after it was received; past that it is visible again.
      const changes = group.map((r) => ({
        receipt: handleOf(r).receipt,
        seconds: Math.min(visibilitySeconds(leaseMs), MAX_VISIBILITY_SECONDS - Math.ceil((now - handleOf(r).receivedAt) / 1000)),
      }));
      const refused = await adapter.sender.changeVisibility(queue.url, changes.filter((c) => c.seconds > 0));
      group.forEach((r, i) => {
        if (changes[i]!.seconds <= 0 || refused.has(changes[i]!.receipt)) lost.push(r.providerJobId);
      });
    }),
  ]);
  return lost;
}
