/**
 * `listQueues` on SQS: counts from each queue's approximate attributes (and its dead-letter
 * queue's), corrected by the status store's flow control when there is one: a parked job has
 * no message (the store holds its body) and a deferred one's message is hidden, which SQS
 * would count as in flight; both are queued.
 *
 * @module
 */
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { QueueInfo, StatusStoreFlow } from "@errand/core/adapter";

import type { QueueMap } from "./queues.js";

/** Counts per queue for every queue of the adapter. */
export async function queueCounts(sqs: SQSClient, queues: QueueMap, flow: StatusStoreFlow | undefined): Promise<QueueInfo[]> {
  const names = await queues.list();
  const [infos, held] = await Promise.all([
    Promise.all(
      names.map(async (name): Promise<QueueInfo> => {
        const queue = await queues.get(name);
        const attributes = (url: string) =>
          sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: url,
              AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible"],
            }),
          );
        const [main, dead] = await Promise.all([attributes(queue.url), attributes(queue.deadUrl)]);
        const count = (value: string | undefined) => Number(value ?? 0);
        return {
          name,
          queued: count(main.Attributes?.ApproximateNumberOfMessages),
          scheduled: count(main.Attributes?.ApproximateNumberOfMessagesDelayed),
          running: count(main.Attributes?.ApproximateNumberOfMessagesNotVisible),
          // Retries wait as delayed messages: SQS cannot tell them from scheduled jobs.
          retrying: 0,
          // Dead messages being read or acted on are hidden for a moment: they are still dead.
          dead: count(dead.Attributes?.ApproximateNumberOfMessages) + count(dead.Attributes?.ApproximateNumberOfMessagesNotVisible),
        };
      }),
    ),
    flow ? flow.counts(names) : undefined,
  ]);
  if (held) {
    infos.forEach((info, i) => {
      const { parked, deferred } = held[i]!;
      info.queued += parked + deferred;
      info.running = Math.max(0, info.running - deferred);
    });
  }
  return infos;
}
