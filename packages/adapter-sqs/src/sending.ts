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
      entry.MessageDeduplicationId = `${payload.id}-${randomBytes(6).toString("hex")}`;
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
    const refused: string[] = [];
    const refusedIds: string[] = [];
    await Promise.all(
      batches(entries, (entry) => Buffer.byteLength(entry.MessageBody!) + ATTRIBUTE_ALLOWANCE_BYTES).map(async (batch) => {
        let pending = batch;
        for (let attempt = 1; pending.length > 0; attempt++) {
          const { Failed = [] } = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: pending }));
          const retry = new Set(Failed.filter((f) => !f.SenderFault && attempt < 3).map((f) => f.Id));
          for (const failure of Failed) {
            if (retry.has(failure.Id)) continue;
            const payload = items[Number(failure.Id)]!.payload;
            refused.push(`${payload.job} ${payload.id}: ${failure.Code ?? "error"} ${failure.Message ?? ""}`.trim());
            refusedIds.push(payload.id);
          }
          pending = pending.filter((entry) => retry.has(entry.Id));
          if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
        }
      }),
    );
    if (refused.length > 0) {
      const error = new AdapterError("sqs", "enqueue", `SQS refused ${refused.length} of ${items.length} messages (the others were sent): ${refused.join("; ")}`);
      throw Object.assign(error, { refusedIds });
    }
  }

  /** Deletes messages by receipt handle. */
  async delete(url: string, receipts: readonly string[]): Promise<void> {
    await Promise.all(
      batches(receipts, () => 0).map((batch) =>
        this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: batch.map((receipt, i) => ({ Id: String(i), ReceiptHandle: receipt })) })),
      ),
    );
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
