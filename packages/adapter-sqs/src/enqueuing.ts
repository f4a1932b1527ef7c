/**
 * Enqueueing on SQS. Plain jobs: their statuses are written (`queued`) before their messages
 * are sent, or a worker could run a job and record it finished before a late `queued`
 * landed. Jobs with `unique` or `recurring` go to the shared status store first, which
 * decides (a duplicate is not sent) and keeps the body until SQS holds the message
 * (`flow.ts`). What SQS did not take is forgotten again (statuses, claims) and the call
 * fails; on SQS a job's provider id is its Errand id. Jobs of a batch are counted by the
 * store as their statuses are written, and taken out again with them (`batches.ts`).
 *
 * @module
 */
import { groupBy, type EnqueueResult, type JobPayload, type StatusStore } from "@errand/core/adapter";

import { checkBatchJobs } from "./batches.js";
import type { SqsFlow } from "./flow.js";
import type { QueueMap } from "./queues.js";
import type { OutgoingMessage, Sender } from "./sending.js";

/** What enqueueing needs of its adapter. */
export interface EnqueueContext {
  status: StatusStore;
  /** Flow control, when the status store is shared and has it. */
  flow: SqsFlow | undefined;
  sender: Sender;
  queues: QueueMap;
}

/** Stores `jobs` (see the module notes); results in the order of `jobs`. */
export async function enqueueJobs(adapter: EnqueueContext, jobs: readonly JobPayload[]): Promise<EnqueueResult[]> {
  if (jobs.length === 0) return [];
  checkBatchJobs(jobs);
  const flow = adapter.flow;
  const claiming = flow ? jobs.filter((job) => job.flow?.unique || job.flow?.recurring) : [];
  const plain = claiming.length > 0 ? jobs.filter((job) => !(job.flow?.unique || job.flow?.recurring)) : jobs;
  // Jobs with unique / recurring: the store decides first and keeps their bodies until SQS
  // holds them (`flow.ts`); their statuses are recorded with the decision.
  const claims = claiming.length > 0 ? await flow!.store.claim(claiming.map((payload) => ({ payload, body: JSON.stringify(payload) }))) : [];
  const claimed = claims.flatMap((claim) => (claim.claimed ? [claim.pending] : []));
  // Statuses first: a worker may take a message, run it and record it finished before a
  // status written after the send would land and turn it back into `queued`.
  try {
    if (plain.length > 0) await adapter.status.enqueued(plain);
  } catch (error) {
    await flow?.store.undo(claimed).catch(() => undefined);
    throw error;
  }
  // FIFO queues deduplicate an enqueue by job id (for SQS's 5 minutes): a payload sent
  // again (the outbox relay resending a batch it could not mark sent) is stored once.
  // Revivals and retries go through other paths, with ids unique per send.
  const messages: OutgoingMessage[] = plain.map((payload) => ({ payload, body: JSON.stringify(payload), runAtMs: Date.parse(payload.runAt), deduplicationId: payload.id }));
  for (const pending of claimed) messages.push(flow!.message(pending));
  const byQueue = groupBy(messages, (message) => message.payload.queue);
  const results = await Promise.allSettled([...byQueue].map(async ([name, group]) => adapter.sender.send((await adapter.queues.get(name)).url, group)));
  const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
  const groups = [...byQueue.values()];
  // The jobs SQS did not take: those it refused, or a whole group whose call failed.
  const notSent = new Set(
    results.flatMap((result, i) => (result.status === "rejected" ? ((result.reason as { refusedIds?: string[] }).refusedIds ?? groups[i]!.map((m) => m.payload.id)) : [])),
  );
  if (claimed.length > 0) {
    // A confirm that fails leaves the send pending: another process sends it again after the bound.
    await flow!.store.confirm(claimed.filter((pending) => !notSent.has(pending.id))).catch(() => undefined);
  }
  if (failed) {
    // Forget what SQS did not take: statuses of plain jobs, claims of the others.
    await Promise.all([
      adapter.status.delete(plain.filter((job) => notSent.has(job.id)).map((job) => job.id)).catch(() => undefined),
      claimed.length > 0 ? flow!.store.undo(claimed.filter((pending) => notSent.has(pending.id))).catch(() => undefined) : undefined,
    ]);
    throw failed.reason;
  }
  let next = 0;
  return jobs.map((job) => {
    if (!(flow && (job.flow?.unique || job.flow?.recurring))) return { jobId: job.id, providerJobId: job.id };
    const claim = claims[next++]!;
    // On SQS the provider id of a job is its Errand id: a message id changes with every send.
    return claim.claimed ? { jobId: job.id, providerJobId: job.id } : { jobId: claim.jobId, providerJobId: claim.jobId, duplicate: true };
  });
}
