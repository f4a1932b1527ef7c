/**
 * Batched writes to SQS: sending messages (with the per-message delay of a wait up to 15
 * minutes, the due-time attribute of a longer one, and the group and deduplication ids of a
 * FIFO queue), deleting them, and changing their visibility timeouts. Each cuts its entries
 * into SQS batches of ten (and 1 MiB) and sends the batches side by side.
 *
 * @module
 */
import { randomBytes } from "node:crypto";

import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  SendMessageBatchCommand,
  type BatchResultErrorEntry,
  type MessageAttributeValue,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { AdapterError, type JobPayload } from "@errand/core/adapter";

import { numberAttribute, RUN_AT } from "./attributes.js";
import { ATTRIBUTE_ALLOWANCE_BYTES, MAX_DELAY_SECONDS, batches, delaySeconds } from "./limits.js";

/** A message to send: the job's payload (for its id, group and errors), its body, when it is due. */
export interface OutgoingMessage {
  payload: JobPayload;
  body: string;
  runAtMs: number;
  attributes?: Record<string, MessageAttributeValue>;
  /**
   * FIFO queues: the deduplication id, when every send of this message must collapse into
   * one (a pending send of the status store's flow: `<job id>-<token>`). Default: unique per send.
   */
  deduplicationId?: string;
}

/** Sends, deletes and hides messages in batches. */
export class Sender {
  constructor(
    private readonly sqs: SQSClient,
    private readonly fifo: boolean,
  ) {}

  /** The batch entry of a message; `index` is its id within the batch. */
  private entry(message: OutgoingMessage, index: number, now: number): SendMessageBatchRequestEntry {
    const { payload, body, runAtMs } = message;
    const entry: SendMessageBatchRequestEntry = { Id: String(index), MessageBody: body };
    if (this.fifo) {
      // Jobs without a group get one of their own: no ordering between them.
      entry.MessageGroupId = payload.group ?? payload.id;
      // Unique per message sent: SDK retries of the same request resend the same entry (and
      // are deduplicated), while a job sent again on purpose (a revived dead job) is not.
      entry.MessageDeduplicationId = message.deduplicationId ?? `${payload.id}-${randomBytes(6).toString("hex")}`;
    } else {
      entry.DelaySeconds = delaySeconds(runAtMs, now);
      if (runAtMs - now > MAX_DELAY_SECONDS * 1000) entry.MessageAttributes = { [RUN_AT]: numberAttribute(runAtMs) };
    }
    if (message.attributes) entry.MessageAttributes = { ...entry.MessageAttributes, ...message.attributes };
    return entry;
  }

  /**
   * Sends messages to one queue. Entries SQS failed on its side are sent again, up to three
   * times; entries it refused are reported, naming each job, after the others were sent
   * (the error's `refusedIds` lists their job ids).
   */
  async send(url: string, items: readonly OutgoingMessage[]): Promise<void> {
    const now = Date.now();
    const entries = items.map((item, index) => this.entry(item, index, now));
    const failures = await withRetries(
      batches(entries, (entry) => Buffer.byteLength(entry.MessageBody!) + ATTRIBUTE_ALLOWANCE_BYTES),
      async (batch) => (await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: batch }))).Failed,
    );
    if (failures.length > 0) {
      const payload = (failure: BatchResultErrorEntry) => items[Number(failure.Id)]!.payload;
      const reasons = reasonsOf(failures, (failure) => `${payload(failure).job} ${payload(failure).id}`);
      const error = new AdapterError("sqs", "enqueue", `SQS refused ${failures.length} of ${items.length} messages (the others were sent): ${reasons}`);
      throw Object.assign(error, { refusedIds: failures.map((failure) => payload(failure).id) });
    }
  }

  /**
   * Deletes messages by receipt handle. Entries SQS failed on its side are deleted again, up
   * to three times; what is still not deleted then (or was refused) is an error naming the
   * jobs, after the others were deleted: a message left behind would run its job again.
   * The error's `notDeleted` lists their receipts.
   */
  async delete(url: string, messages: readonly { receipt: string; jobId: string }[]): Promise<void> {
    const failures = await withRetries(
      batches(messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.receipt })), () => 0),
      async (batch) => (await this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: batch }))).Failed,
    );
    if (failures.length > 0) {
      const reasons = reasonsOf(failures, (failure) => `job ${messages[Number(failure.Id)]!.jobId}`);
      const error = new AdapterError("sqs", "delete", `SQS did not delete ${failures.length} of ${messages.length} messages (the others were deleted): ${reasons}`);
      throw Object.assign(error, { notDeleted: failures.map((failure) => messages[Number(failure.Id)]!.receipt) });
    }
  }

  /** Changes visibility timeouts; returns the receipts SQS refused (the message is no longer held under them). */
  async changeVisibility(url: string, changes: readonly { receipt: string; seconds: number }[]): Promise<Set<string>> {
    const refused = new Set<string>();
    await Promise.all(
      batches(changes, () => 0).map(async (batch) => {
        const { Failed = [] } = await this.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: url,
            Entries: batch.map((change, i) => ({ Id: String(i), ReceiptHandle: change.receipt, VisibilityTimeout: change.seconds })),
          }),
        );
        for (const failure of Failed) refused.add(batch[Number(failure.Id)]!.receipt);
      }),
    );
    return refused;
  }
}

/** Attempts at an entry SQS failed on its side (its `SenderFault` is false) before it is reported. */
const ATTEMPTS = 3;

/**
 * Sends batches side by side, each through `call` (which answers its failed entries), and
 * sends again the entries SQS failed on its side, after 100 ms, then 200 ms. Answers the
 * failures that remain: refused entries (sender faults) and those failed every time.
 */
async function withRetries<E extends { Id?: string }>(all: E[][], call: (batch: E[]) => Promise<BatchResultErrorEntry[] | undefined>): Promise<BatchResultErrorEntry[]> {
  const failed: BatchResultErrorEntry[] = [];
  await Promise.all(
    all.map(async (batch) => {
      let pending = batch;
      for (let attempt = 1; pending.length > 0; attempt++) {
        const failures = (await call(pending)) ?? [];
        const retry = new Set(failures.filter((f) => !f.SenderFault && attempt < ATTEMPTS).map((f) => f.Id));
        failed.push(...failures.filter((f) => !retry.has(f.Id)));
        pending = pending.filter((entry) => retry.has(entry.Id));
        if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }),
  );
  return failed;
}

/** `<job of the entry>: <code> <message>; …`, each failed entry named by `name`. */
function reasonsOf(failures: readonly BatchResultErrorEntry[], name: (failure: BatchResultErrorEntry) => string): string {
  return failures.map((failure) => `${name(failure)}: ${failure.Code ?? "error"} ${failure.Message ?? ""}`.trim()).join("; ");
}
