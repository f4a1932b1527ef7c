/**
 * Settling deliveries on SQS. Across queues ({@link settleAll}): stale holders change
 * nothing; messages are settled first and statuses after, so a `dead` status always has its
 * dead-letter message, and what SQS did not take keeps its status and lease for core's
 * retry of the settle. One queue's deliveries ({@link settleQueue}): succeeded and failed messages are deleted, released
 * ones made visible at once, dead ones copied to the dead-letter queue and deleted, retries
 * sent again with their backoff as delay and deleted (on FIFO queues kept, hidden for the
 * backoff, so the group stays in order). New copies are sent before the delivered ones go.
 * A job of a batch has its status written first (the store counts it there: a count must
 * survive a crash), and the callbacks of batches a status write finished are sent right
 * after that write (`batches.ts`).
 *
 * @module
 */
import { groupBy, type Settlement, type StatusStore } from "@errand/core/adapter";

import { handleOf } from "./attributes.js";
import { deadMessage } from "./dead-letter.js";
import type { SqsBatches } from "./batches.js";
import type { SqsFlow } from "./flow.js";
import { staleReservations } from "./leases.js";
import { MAX_VISIBILITY_SECONDS } from "./limits.js";
import type { QueueMap, SqsQueue } from "./queues.js";
import type { OutgoingMessage, Sender } from "./sending.js";

/** What settling one queue needs of its adapter. */
export interface SettleContext {
  queues: QueueMap;
  sender: Sender;
  fifo: boolean;
}

/** What settling across queues needs of its adapter. */
export interface SettleAllContext extends SettleContext {
  status: StatusStore;
  /** Flow control, when the status store is shared and has it: slots go with their leases. */
  flow: SqsFlow | undefined;
  /** Batches, when the status store is shared and has them: callbacks of batches a settle finished are sent. */
  batches: SqsBatches | undefined;
}

/** Records how reserved jobs ended, on SQS and in the status store (see the module notes). */
export async function settleAll(adapter: SettleAllContext, settlements: readonly Settlement[]): Promise<void> {
  if (settlements.length === 0) return;
  const stale = await staleReservations(adapter.status, settlements.map((s) => s.reservation));
  // A stale holder (its lease expired and the job was delivered again) changes nothing.
  const current = settlements.filter((s) => !stale.has(s.reservation));
  const byQueue = [...groupBy(current, (s) => handleOf(s.reservation).queue)];
  // A FIFO retry keeps its message, seen again once its visibility changes: at once when
  // the backoff is under the settle's delay (a 20 ms wait settled late is 0 s). Its status
  // holds the retried payload (the rules' counters), so it is written first: written after,
  // a redelivery read the old one (CI, under load). If SQS then refuses the change, the
  // message comes back when its lease runs out, with the new payload.
  //
  // A job of a batch (`handle.batch`) has every settlement but a release written first: the
  // store counts it in that write, and a count must not be lost. Written after, (1) a
  // process killed between SQS's delete and the write left the job counted pending for
  // ever, its message gone: the batch never finished; (2) a retry's new copy, received and
  // started before the write, made it stale, and the failed run went uncounted (the batches
  // conformance case). Written first, what SQS then fails to settle comes back when the
  // lease runs out and runs again (at-least-once, as before), and its settlement counts
  // nothing more: the job is counted finished already. A dead one is `dead` in the store a
  // moment before its dead-letter copy exists.
  const early = current.filter((settlement) => (settlement.outcome === "retry" && adapter.fifo) || (handleOf(settlement.reservation).batch === true && settlement.outcome !== "released"));
  if (early.length > 0) {
    // Written apart: inside `adapter.batches?.send(…)` the write would be skipped, argument
    // and all, whenever the store keeps no batches (FIFO retries on the local store lost
    // their status that way).
    const finishedEarly = await adapter.status.settled(statusEntries(early));
    await adapter.batches?.send(finishedEarly);
  }
  // Messages first, statuses after: once a status says `dead`, its dead-letter message
  // exists (the dead set lists it), and a finished status never precedes the delete.
  const failures = (await Promise.all(byQueue.map(([queue, group]) => settleQueue(adapter, queue, group)))).filter((f) => f !== undefined);
  // What SQS did not take keeps its status and lease, so core's retry of this settle finds
  // it current and tries again; the rest is recorded, and is stale to that retry.
  const notDone = new Set(failures.flatMap((failure) => failure.receipts));
  const done = current.filter((settlement) => !notDone.has(handleOf(settlement.reservation).receipt));
  const written = new Set<Settlement>(early);
  const finished = await adapter.status.settled(statusEntries(done.filter((settlement) => !written.has(settlement))));
  // Batches these settlements finished: the store recorded their callbacks as pending sends
  // in the same step; sent now (a crash before the confirm leaves them to the upkeep).
  await adapter.batches?.send(finished);
  // Slots go with the leases that held them; one parked job per slot freed is sent again.
  if (adapter.flow) await adapter.flow.release(done);
  if (failures.length > 0) throw failures[0]!.error;
}

/** The status store's entries for settled deliveries (a delivery without a job id has none). */
function statusEntries(settlements: readonly Settlement[]): { id: string; lease: string; settlement: Settlement }[] {
  return settlements.flatMap((settlement) => {
    const { jobId, receipt } = handleOf(settlement.reservation);
    return jobId ? [{ id: jobId, lease: receipt, settlement }] : [];
  });
}


/** Settles one queue's messages; answers the receipts SQS did not settle and why, if any. */
export async function settleQueue(adapter: SettleContext, queue: SqsQueue, settlements: readonly Settlement[]): Promise<{ receipts: string[]; error: unknown } | undefined> {
  const remove: { receipt: string; jobId: string }[] = [];
  const visible: { receipt: string; seconds: number }[] = [];
  const sends: Promise<void>[] = [];
  const dead: OutgoingMessage[] = [];
  const now = Date.now();
  for (const s of settlements) {
    const { receipt, jobId = s.reservation.providerJobId } = handleOf(s.reservation);
    switch (s.outcome) {
      case "succeeded":
      case "failed":
        remove.push({ receipt, jobId });
        break;
      case "released":
        visible.push({ receipt, seconds: 0 });
        break;
      case "dead":
        dead.push(deadMessage(s.reservation, s.payload, s.error, now));
        remove.push({ receipt, jobId });
        break;
      case "retry":
        // A resumable job's progress (`continuation`) must travel in its body, which a kept
        // message cannot change: it is sent anew, at the end of its group, as a standard
        // queue's retry is (docs/long-jobs.md).
        if (adapter.fifo && s.payload.continuation === undefined) {
          // Keep the message, so its group stays in order; it waits out the backoff hidden.
          visible.push({ receipt, seconds: Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil((s.runAt.getTime() - now) / 1000))) });
        } else {
          sends.push(
            adapter.queues.get(s.payload.queue).then((target) => adapter.sender.send(target.url, [{ payload: s.payload, body: JSON.stringify(s.payload), runAtMs: s.runAt.getTime() }])),
          );
          remove.push({ receipt, jobId });
        }
        break;
    }
  }
  if (dead.length > 0) sends.push(adapter.sender.send(queue.deadUrl, dead));
  // New copies first, then the delivered ones go: a crash in between runs a job twice, never zero times.
  try {
    await Promise.all(sends);
  } catch (error) {
    return { receipts: settlements.map((s) => handleOf(s.reservation).receipt), error };
  }
  const [deleted, changed] = await Promise.allSettled([adapter.sender.delete(queue.url, remove), adapter.sender.changeVisibility(queue.url, visible)]);
  const receipts: string[] = [];
  let error: unknown;
  if (changed.status === "rejected") {
    receipts.push(...visible.map((change) => change.receipt));
    error = changed.reason;
  }
  if (deleted.status === "rejected") {
    receipts.push(...((deleted.reason as { notDeleted?: string[] }).notDeleted ?? remove.map((message) => message.receipt)));
    error = deleted.reason;
  }
  return receipts.length > 0 ? { receipts, error } : undefined;
}
