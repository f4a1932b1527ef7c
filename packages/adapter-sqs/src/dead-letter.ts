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

/** Why a dead message died: our attribute, or SQS's redrive policy (which carries no reason of ours). */
function deadError(message: Message): StoredError {
  const error = message.MessageAttributes?.[ERROR]?.StringValue;
  return error ? (JSON.parse(error) as StoredError) : { name: "MaxReceiveCountExceeded", message: "moved to the dead-letter queue by SQS's redrive policy" };
}

function deadJob(queue: string, message: Message): DeadJob {
  const diedAt = Number(message.MessageAttributes?.[DIED_AT]?.StringValue ?? message.Attributes?.SentTimestamp ?? Date.now());
  return { id: deadId(message), providerJobId: message.MessageId!, queue, body: message.Body ?? "", error: deadError(message), diedAt: new Date(diedAt) };
}

/** A dead message being acted on, and the queue whose dead-letter queue holds it. */
interface Held {
  queue: SqsQueue;
  message: Message;
}

/** A dead message core revived: the payload and body to send. */
interface Revived extends Held {
  payload: JobPayload;
  body: string;
}

/** Messages moved back per round: one SQS batch each of status write, send and delete. */
const RETRY_BATCH = 10;

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

  /** Dead messages chosen by `select`, held hidden for a minute while they are acted on; the others are shown again. */
  private async select(select: RetryDeadOptions["select"]): Promise<Held[]> {
    const names = "all" in select && select.queue !== undefined ? [select.queue] : await this.queues.list();
    const ids = "ids" in select ? new Set(select.ids) : undefined;
    const chosen: Held[] = [];
    for (const name of names) {
      const queue = await this.queues.get(name);
      const others: Held[] = [];
      for (const message of await this.read(queue, 60)) {
        if (!ids || ids.has(deadId(message)) || ids.has(message.MessageId!)) chosen.push({ queue, message });
        else others.push({ queue, message });
      }
      await this.show(others);
    }
    return chosen;
  }

  /** Makes held dead messages visible in their dead-letter queue again at once. */
  private async show(held: readonly Held[]): Promise<void> {
    for (const [queue, group] of groupBy(held, (h) => h.queue)) {
      await this.sender.changeVisibility(queue.deadUrl, group.map((h) => ({ receipt: h.message.ReceiptHandle!, seconds: 0 })));
    }
  }

  /**
   * Moves the chosen dead jobs core revives back to their queues, ten at a time (three
   * round trips per ten, not per message, so a large dead set fits in its minute's hold).
   * Those core keeps dead are shown again at once. A failure stops the retry: the jobs not
   * moved stay dead, status included, and show again at once; the error is reported.
   */
  async retry({ select, revive }: RetryDeadOptions): Promise<number> {
    const revived: Revived[] = [];
    const kept: Held[] = [];
    for (const held of await this.select(select)) {
      const answer = revive(held.message.Body ?? "");
      if (answer) revived.push({ ...held, ...answer });
      else kept.push(held); // it would only die again
    }
    await this.show(kept);
    let moved = 0;
    for (let start = 0; start < revived.length; start += RETRY_BATCH) {
      try {
        moved += await this.move(revived.slice(start, start + RETRY_BATCH));
      } catch (error) {
        // This batch too: a status write that failed left its messages hidden (showing one
        // already moved changes nothing, SQS refuses its receipt).
        await this.show(revived.slice(start)).catch(() => undefined);
        throw error;
      }
    }
    return moved;
  }

  /** Moves one batch of revived jobs; answers how many moved, or throws once the rest is dead again. */
  private async move(batch: readonly Revived[]): Promise<number> {
    // Status first, as in `enqueue`: written after the send, it could land after a worker
    // took the job, ran it and recorded it finished, and turn it back into `queued`.
    await this.status.enqueued(batch.map((r) => r.payload));
    const byTarget = [...groupBy(batch, (r) => r.payload.queue)];
    const results = await Promise.allSettled(
      byTarget.map(async ([name, group]) => {
        const target = await this.queues.get(name);
        await this.sender.send(target.url, group.map(({ payload, body }) => ({ payload, body, runAtMs: Date.now() })));
      }),
    );
    const notSent = new Set<Revived>();
    results.forEach((result, i) => {
      if (result.status === "fulfilled") return;
      const refused = (result.reason as { refusedIds?: string[] }).refusedIds;
      for (const r of byTarget[i]![1]) if (!refused || refused.includes(r.payload.id)) notSent.add(r);
    });
    const sent = batch.filter((r) => !notSent.has(r));
    if (notSent.size > 0) {
      // Still in the dead set, so dead again: `enqueued` started the job afresh, with no
      // lease, so a settlement under the dead message's receipt applies.
      await this.status.settled(
        [...notSent].map(({ payload, message }) => ({
          id: payload.id,
          lease: message.ReceiptHandle!,
          settlement: { reservation: { providerJobId: message.MessageId!, body: message.Body ?? "" }, outcome: "dead", error: deadError(message) },
        })),
      );
      await this.show([...notSent]);
    }
    for (const [queue, group] of groupBy(sent, (r) => r.queue)) {
      await this.sender.delete(queue.deadUrl, group.map((r) => ({ receipt: r.message.ReceiptHandle!, jobId: r.payload.id })));
    }
    const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failed) throw failed.reason;
    return sent.length;
  }

  async purge({ select }: PurgeDeadOptions): Promise<number> {
    const chosen = await this.select(select);
    for (const [queue, group] of groupBy(chosen, (c) => c.queue)) {
      await this.sender.delete(queue.deadUrl, group.map((c) => ({ receipt: c.message.ReceiptHandle!, jobId: deadId(c.message) })));
    }
    await this.status.delete(chosen.map((c) => deadId(c.message)));
    return chosen.length;
  }
}
