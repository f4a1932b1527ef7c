/**
 * Errand queue names to SQS queues. `reports` is `<prefix>reports` (plus `.fifo` on FIFO
 * adapters) and its dead-letter queue `<prefix>reports-dead` (`.fifo`). URLs are looked up
 * once per queue and cached. With `createQueues` (the default) a missing queue is created
 * on first use: its dead-letter queue first, then the queue with a redrive policy pointing
 * there; without it, a missing queue is an error naming the SQS queue to create.
 *
 * @module
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { ConfigError } from "@errand/core/adapter";

import { checkQueueName, isMissingQueue } from "./limits.js";

/** The SQS side of one Errand queue. */
export interface SqsQueue {
  /** Errand queue name. */
  name: string;
  url: string;
  deadUrl: string;
}

/** Settings of the mapping. */
export interface QueueMapOptions {
  prefix: string;
  fifo: boolean;
  create: boolean;
  /** Receives after which SQS itself moves a message to the dead-letter queue (crash loops). */
  maxReceiveCount: number;
  /** Attributes for queues Errand creates (e.g. `{ KmsMasterKeyId }`). */
  attributes: Record<string, string>;
}

/** Resolves Errand queues to SQS queue URLs, creating them when allowed. */
export class QueueMap {
  private readonly cache = new Map<string, Promise<SqsQueue>>();

  constructor(
    private readonly sqs: SQSClient,
    readonly options: QueueMapOptions,
  ) {}

  /** The SQS queue name of an Errand queue (`dead`: of its dead-letter queue). */
  sqsName(queue: string, dead = false): string {
    const name = `${this.options.prefix}${queue}${dead ? "-dead" : ""}${this.options.fifo ? ".fifo" : ""}`;
    return checkQueueName(name, queue);
  }

  /** The Errand queue of an SQS queue name, or undefined when it is not one of ours. */
  errandName(sqsName: string): string | undefined {
    const { prefix, fifo } = this.options;
    let name = sqsName;
    if (fifo) {
      if (!name.endsWith(".fifo")) return undefined;
      name = name.slice(0, -5);
    }
    if (!name.startsWith(prefix) || name.endsWith("-dead")) return undefined;
    return name.slice(prefix.length);
  }

  /** The queue's URLs (looked up or created once, then cached). */
  get(queue: string): Promise<SqsQueue> {
    let found = this.cache.get(queue);
    if (!found) {
      found = this.resolve(queue);
      this.cache.set(queue, found);
      found.catch(() => this.cache.delete(queue));
    }
    return found;
  }

  /** Errand queues that exist under the prefix (ListQueues), for counts and the dead set. */
  async list(): Promise<string[]> {
    const names = new Set<string>();
    let token: string | undefined;
    do {
      const page = await this.sqs.send(new ListQueuesCommand({ QueueNamePrefix: this.options.prefix, NextToken: token, MaxResults: 1000 }));
      for (const url of page.QueueUrls ?? []) {
        const name = this.errandName(url.slice(url.lastIndexOf("/") + 1));
        if (name !== undefined) names.add(name);
      }
      token = page.NextToken;
    } while (token);
    for (const queue of this.cache.keys()) names.add(queue);
    return [...names].sort();
  }

  private async url(name: string): Promise<string | undefined> {
    try {
      return (await this.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
    } catch (error) {
      if (isMissingQueue(error)) return undefined;
      throw error;
    }
  }

  private async resolve(queue: string): Promise<SqsQueue> {
    const name = this.sqsName(queue);
    const deadName = this.sqsName(queue, true);
    let [url, deadUrl] = await Promise.all([this.url(name), this.url(deadName)]);
    if (url && deadUrl) return { name: queue, url, deadUrl };
    if (!this.options.create) {
      const missing = [url ? undefined : name, deadUrl ? undefined : deadName].filter(Boolean).join(" and ");
      throw new ConfigError(
        `sqs adapter: SQS queue ${missing} for Errand queue ${JSON.stringify(queue)} does not exist, and createQueues is off: ` +
          "create it (with a redrive policy to the -dead queue) or set createQueues: true",
      );
    }
    const fifo = this.options.fifo ? { FifoQueue: "true" } : {};
    // Dead letters are kept as long as SQS allows (14 days).
    deadUrl ??= (await this.sqs.send(new CreateQueueCommand({ QueueName: deadName, Attributes: { ...fifo, MessageRetentionPeriod: "1209600" } }))).QueueUrl!;
    if (!url) {
      const { Attributes } = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadUrl, AttributeNames: ["QueueArn"] }));
      const redrive = JSON.stringify({ deadLetterTargetArn: Attributes!.QueueArn, maxReceiveCount: this.options.maxReceiveCount });
      url = (
        await this.sqs.send(
          new CreateQueueCommand({ QueueName: name, Attributes: { MessageRetentionPeriod: "1209600", ...this.options.attributes, ...fifo, RedrivePolicy: redrive } }),
        )
      ).QueueUrl!;
    }
    return { name: queue, url, deadUrl };
  }
}
