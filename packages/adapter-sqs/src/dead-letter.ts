/**
 * The dead set on SQS: each queue's dead-letter queue (`<queue>-dead`, also the target of
 * its redrive policy). A dead job is a message there carrying its reason, time of death and
 * id as message attributes. SQS cannot list a queue, so the dead set is read by receiving:
 * under a zero visibility timeout to list (the messages show again at once), under a
 * minute's to retry or purge (they stay hidden while acted on).
 *
 * @module
 */
import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import {
  groupBy,
  type DeadJob,
  type JobPayload,
  type ListDeadOptions,
  type PurgeDeadOptions,
  type Reservation,
  type RetryDeadOptions,
  type StatusStore,
  type StoredError,
} from "@errand/core/adapter";

import { DEAD_ID, DIED_AT, ERROR, deadAttributes, peekId } from "./attributes.js";
import type { QueueMap, SqsQueue } from "./queues.js";
import { receiveMessages } from "./receiving.js";
import type { OutgoingMessage, Sender } from "./sending.js";

/** The message that buries a delivery in the dead-letter queue: the payload core gave, or the body as delivered. */
export function deadMessage(reservation: Reservation, payload: JobPayload | undefined, error: StoredError, now: number): OutgoingMessage {
  const body = payload ? JSON.stringify(payload) : reservation.body;
  const sent = payload ?? ({ id: peekId(body) ?? reservation.providerJobId, job: "", executions: 0 } as JobPayload);
  return { payload: sent, body, runAtMs: now, attributes: deadAttributes(sent.id, error, now) };
}

/** The id a dead message is known by (see `DEAD_ID`). */
function deadId(message: Message): string {
  return message.MessageAttributes?.[DEAD_ID]?.StringValue ?? peekId(message.Body) ?? message.MessageId!;
}

function deadJob(queue: string, message: Message): DeadJob {
  const error = message.MessageAttributes?.[ERROR]?.StringValue;
  const diedAt = Number(message.MessageAttributes?.[DIED_AT]?.StringValue ?? message.Attributes?.SentTimestamp ?? Date.now());
  return {
    id: deadId(message),
    providerJobId: message.MessageId!,
    queue,
    body: message.Body ?? "",
    // A message SQS moved itself (maxReceiveCount) carries no reason of ours.
    error: error ? (JSON.parse(error) as StoredError) : { name: "MaxReceiveCountExceeded", message: "moved to the dead-letter queue by SQS's redrive policy" },
    diedAt: new Date(diedAt),
  };
}

/** Lists, retries and purges dead-letter messages. */
export class DeadLetters {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queues: QueueMap,
    private readonly sender: Sender,
    private readonly status: StatusStore,
  ) {}

  /**
   * Every message of a queue's dead-letter queue, received under a visibility timeout of
   * `hold` seconds: 0 to list (they show again at once), longer to act on them.
   */
  private async read(queue: SqsQueue, hold: number): Promise<Message[]> {
    const seen = new Map<string, Message>();
    for (let empty = 0; empty < 2; ) {
      const messages = await receiveMessages(this.sqs, queue.deadUrl, 10, hold, 0);
      const fresh = messages.filter((m) => !seen.has(m.MessageId!));
      for (const message of messages) seen.set(message.MessageId!, message);
      empty = fresh.length === 0 ? empty + 1 : 0;
    }
    return [...seen.values()];
  }

  async list({ queue, limit = 100, offset = 0 }: ListDeadOptions): Promise<DeadJob[]> {
    const names = queue === undefined ? await this.queues.list() : [queue];
    const all = await Promise.all(
      names.map(async (name) => {
        const sqsQueue = await this.queues.get(name);
        return (await this.read(sqsQueue, 0)).map((message) => deadJob(name, message));
      }),
    );
    return all
      .flat()
      // Same millisecond: newer ids (UUIDv7) first.
      .sort((a, b) => b.diedAt.getTime() - a.diedAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(offset, offset + limit);
  }

  /** Dead messages chosen by `select`, held hidden for a minute while they are acted on. */
  private async select(select: RetryDeadOptions["select"]): Promise<{ queue: SqsQueue; message: Message }[]> {
    const names = "all" in select && select.queue !== undefined ? [select.queue] : await this.queues.list();
    const ids = "ids" in select ? new Set(select.ids) : undefined;
    const chosen: { queue: SqsQueue; message: Message }[] = [];
    for (const name of names) {
      const queue = await this.queues.get(name);
      for (const message of await this.read(queue, 60)) {
        const id = deadId(message);
        if (!ids || ids.has(id) || ids.has(message.MessageId!)) chosen.push({ queue, message });
        else await this.sender.changeVisibility(queue.deadUrl, [{ receipt: message.ReceiptHandle!, seconds: 0 }]);
      }
    }
    return chosen;
  }

  async retry({ select, revive }: RetryDeadOptions): Promise<number> {
    let moved = 0;
    for (const { queue, message } of await this.select(select)) {
      const revived = revive(message.Body ?? "");
      if (!revived) {
        // Core keeps it dead (it would only die again): visible in the dead-letter queue at once.
        await this.sender.changeVisibility(queue.deadUrl, [{ receipt: message.ReceiptHandle!, seconds: 0 }]);
        continue;
      }
      const { payload, body } = revived;
      const target = await this.queues.get(payload.queue);
      // Status first, as in `enqueue`: written after the send, it could land after a worker
      // took the job, ran it and recorded it finished, and turn it back into `queued`; and
      // until it lands the status would say `dead` while the dead set no longer holds it.
      await this.status.enqueued([payload]);
      await this.sender.send(target.url, [{ payload, body, runAtMs: Date.now() }]);
      await this.sender.delete(queue.deadUrl, [message.ReceiptHandle!]);
      moved++;
    }
    return moved;
  }

  async purge({ select }: PurgeDeadOptions): Promise<number> {
    const chosen = await this.select(select);
    for (const [queue, group] of groupBy(chosen, (c) => c.queue)) {
      await this.sender.delete(queue.deadUrl, group.map((c) => c.message.ReceiptHandle!));
    }
    await this.status.delete(chosen.map((c) => deadId(c.message)));
    return chosen.length;
  }
}
