/**
 * Settling one queue's deliveries on SQS: succeeded and failed messages are deleted, released
 * ones made visible at once, dead ones copied to the dead-letter queue and deleted, retries
 * sent again with their backoff as delay and deleted (on FIFO queues kept, hidden for the
 * backoff, so the group stays in order). New copies are sent before the delivered ones go.
 *
 * @module
 */
import type { Settlement } from "@errand/core/adapter";

import { handleOf } from "./attributes.js";
import { deadMessage } from "./dead-letter.js";
import { MAX_VISIBILITY_SECONDS } from "./limits.js";
import type { QueueMap, SqsQueue } from "./queues.js";
import type { OutgoingMessage, Sender } from "./sending.js";

/** What settling needs of its adapter. */
export interface SettleContext {
queues: QueueMap;
sender: Sender;
fifo: boolean;
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
        if (adapter.fifo) {
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
