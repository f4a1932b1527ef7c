/**
 * Batches on SQS (`capabilities.batches`, with a shared status store that has `batches` and
 * `flow`): SQS holds the messages, the store counts. The store counts a batch's jobs inside
 * `enqueued` (statuses are written before the messages are sent, as for every job) and
 * `settled` (for a batch's job, before SQS settles its message, so that no crash loses a
 * count: `settling.ts`), idempotent per job; when a settle or a seal
 * finishes a batch, the same atomic store step records its callbacks as pending sends,
 * which come back here to be sent and confirmed (`SqsFlow.send`). A process killed between
 * the store's decision and the send leaves them pending: after `claimTimeoutMs` (30 s by
 * default) the upkeep of any adapter on the store sends them (`SqsFlow.sweepOnce`).
 *
 * A callback sent twice (its sender died between SQS's answer and the confirm) runs once:
 * the upkeep confirms, instead of sending, a swept callback whose status shows it delivered
 * already, and a delivery of a callback whose status is finished is void (the store's
 * `control.deliveries` answers it; the receiver deletes it unrun), and a later copy received
 * in the same reserve as the first is deleted (`receiving.ts`). FIFO queues collapse the two
 * sends by the entry's token within SQS's 5-minute window anyway. Two copies received by two
 * workers at once both run (their window: a copy waited in the queue past the claim timeout).
 *
 * An operator's cancel counts a job of a batch as discarded in the store's cancel step; a
 * batch that finishes there has its callbacks recorded as pending sends taken at time 0
 * (`cancel` answers only ids), which the sweep the adapter runs right after the cancel sends
 * (or, should that fail, the next upkeep of any process).
 *
 * A job of a batch with `unique` or `recurring` would be stored by the flow's `claim`, which
 * does not count batches: it is refused with a clear error (core never builds one: batch
 * jobs are plain jobs).
 *
 * @module
 */
import { ConfigError, type BatchRecord, type FlowPending, type JobPayload, type NewBatch, type StatusStore, type StatusStoreBatches } from "@errand/core/adapter";

import type { SqsFlow } from "./flow.js";

/** The batches of one SQS adapter; see the module notes. */
export class SqsBatches {
  constructor(
    private readonly store: StatusStoreBatches,
    private readonly flow: SqsFlow,
  ) {}

  async open(batches: readonly NewBatch[]): Promise<void> {
    await this.store.open(batches);
  }

  /** Seals batches; sends the callbacks of those that finished here. */
  async seal(ids: readonly string[]): Promise<void> {
    await this.send(await this.store.seal(ids));
  }

  async get(ids: readonly string[]): Promise<(BatchRecord | null)[]> {
    return this.store.get(ids);
  }

  /**
   * Sends callbacks the store recorded as pending sends (a settle or seal finished their
   * batch) and confirms those SQS took; the rest stay pending for the upkeep. Never throws.
   */
  async send(pendings: FlowPending[] | void): Promise<void> {
    if (pendings && pendings.length > 0) await this.flow.send(pendings);
  }
}

/** Refuses jobs of a batch that the flow's claim would store uncounted (see the module notes). */
export function checkBatchJobs(jobs: readonly JobPayload[]): void {
  for (const job of jobs) {
    if (job.batch && (job.flow?.unique || job.flow?.recurring)) {
      throw new ConfigError(
        `sqs adapter: job ${job.id} (${job.job}) belongs to batch ${job.batch.id} and has flow.${job.flow.unique ? "unique" : "recurring"}: ` +
          "a batch's jobs and callbacks cannot be unique or recurring on SQS (the status store counts batches only for plain jobs)",
      );
    }
  }
}

/**
 * Of swept pending sends, the batch callbacks whose status shows them delivered already (no
 * longer queued or scheduled): their first send reached SQS, only the confirm was lost, and a
 * second send would run the callback twice. Other pending sends are never in the answer.
 */
export async function deliveredCallbacks(status: StatusStore, pendings: readonly FlowPending[]): Promise<Set<string>> {
  const callbacks = pendings.filter((p) => isCallbackBody(p.body));
  if (callbacks.length === 0) return new Set();
  const records = await status.get(callbacks.map((p) => p.id));
  return new Set(callbacks.flatMap((p, i) => (records[i] && records[i].state !== "queued" && records[i].state !== "scheduled" ? [p.id] : [])));
}

/** Whether a body is a batch callback's payload (`batch.callback` set). */
function isCallbackBody(body: string): boolean {
  // Cheap test first: most swept bodies are claims and parked jobs without a batch.
  if (!body.includes('"callback"')) return false;
  try {
    return (JSON.parse(body) as JobPayload).batch?.callback !== undefined;
  } catch {
    return false;
  }
}
