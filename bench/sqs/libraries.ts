/**
 * Errand-sqs and sqs-consumer behind one small interface, each set up as its documentation
 * says (see README.md, "Settings"). Each measurement opens a library under a queue-name
 * prefix of its own (see store.ts), so no run sees another's messages.
 *
 * Jobs carry one number `n`; `onStart(n)` is called when the library calls the job's
 * function (Errand's `perform`, sqs-consumer's `handleMessage` / `handleMessageBatch`).
 */
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, type Message } from "@aws-sdk/client-sqs";
import type { AdapterOptionsSetting } from "@errand/core";
import type { Consumer } from "sqs-consumer";

import type { Tuning } from "../lib/compare.js";
import { openErrand } from "../lib/errand.js";
import { sleep, type BenchLibrary } from "../lib/scenarios.js";
import { REDIS_URL } from "../redis/store.js";
import { CLIENT_CONFIG, messagesLeft, sqsClient } from "./store.js";

export type LibraryName = "errand" | "sqs-consumer";
export const LIBRARIES: readonly LibraryName[] = ["errand", "sqs-consumer"];
export const SQS_CONSUMER_VERSION = "14.2.8";

export type { Tuning } from "../lib/compare.js";

/** How sqs-consumer hands messages to the app: one call per message (its default) or one per received batch. */
export type Handler = "message" | "batch";

/** What a scenario does with a library. */
export interface Library extends BenchLibrary<LibraryName> {
  /** The SQS queue the jobs go to; the bench's own client counts what it still holds. */
  readonly queueName: string;
}

const number = (tuning: Tuning, key: string, fallback: number) => (typeof tuning[key] === "number" ? (tuning[key] as number) : fallback);

/**
 * How long Errand's idle long poll lasts (`WaitTimeSeconds` is its 1 s poll interval). When
 * the worker stops, the adapter leaves that poll running (a poll cut off would still take
 * messages on the server and hide them for the visibility timeout) and makes whatever it
 * brings visible again. After the warm-up drain the bench lets it run out before the timed
 * enqueue, so that hand-back does not land in the timed drain. Not timed.
 */
const ERRAND_IDLE_POLL_MS = 1_000;

// --- Errand -------------------------------------------------------------------------

/** The Redis status store's key prefix for the queue-name prefix `prefix` (`eb-errand-<hex>-` → `eb-errand-<hex>`). */
export function statusPrefix(prefix: string): string {
  return prefix.replace(/-$/, "");
}

/**
 * Errand-sqs (see ../lib/errand.ts) under `prefix`: `{ use: "sqs", endpoint, clientConfig,
 * queuePrefix }`, everything else default (queues and their dead-letter queues created on
 * first use, statuses in this process's memory). `tuning.status: "redis"` gives it a
 * `RedisStatusStore` on REDIS_URL under `statusPrefix(prefix)` instead (what batches need:
 * batch.ts); the child deletes those keys at the end. The worker's queues are the fallback of an
 * adapter that cannot list queues, `"default"`, where NoopJob goes.
 */
async function errand(endpoint: string, prefix: string, tuning: Tuning): Promise<Library> {
  const adapter: AdapterOptionsSetting = { use: "sqs", endpoint, clientConfig: CLIENT_CONFIG, queuePrefix: prefix };
  if (typeof tuning.receivesInFlight === "number") adapter.receivesInFlight = tuning.receivesInFlight;
  const { endpoint: _endpoint, clientConfig: _clientConfig, ...shown } = adapter;
  if (tuning.status !== undefined && tuning.status !== "redis") throw new Error(`tuning status: ${JSON.stringify(tuning.status)} is not a status store the bench knows (only "redis")`);
  if (tuning.status === "redis") {
    const { RedisStatusStore } = await import("@errand/adapter-redis");
    adapter.status = new RedisStatusStore({ url: REDIS_URL, prefix: statusPrefix(prefix) });
  }
  const library = await openErrand(
    adapter,
    { ...shown, queuePrefix: "fresh per run", clientConfig: { region: CLIENT_CONFIG.region }, ...(tuning.status === "redis" ? { status: "RedisStatusStore, fresh prefix per run" } : {}) },
    tuning,
  );
  return {
    ...library,
    settings: { ...library.settings, worker: { ...(library.settings.worker as object), queues: "default" } },
    queueName: `${prefix}default`,
    stopWorkers: async () => {
      await library.stopWorkers();
      await sleep(ERRAND_IDLE_POLL_MS + 500);
    },
  };
}

// --- sqs-consumer -------------------------------------------------------------------

/** The body of the message that wakes a stopped consumer's long poll (see `stopWorkers`); it is not a job. */
const WAKE = "wake";

/**
 * sqs-consumer as its README sets it up: `Consumer.create({ queueUrl, handleMessage, sqs })`
 * with an `error` and a `processing_error` listener, the handler returning the message so it
 * is deleted. It has no concurrency option: a consumer receives up to `batchSize` (at most
 * 10) messages, runs the handler on all of them at once, deletes them, then polls again;
 * its README says to raise `batchSize` to run messages in parallel, and its maintainers to
 * start more consumers past ten (bbc/sqs-consumer#229). Concurrency c is therefore
 * ceil(c / 10) consumers on one SQS client, each with `batchSize` c / consumers (10 at c = 10
 * and 50). With `handler: "batch"`, `handleMessageBatch` gets each received batch and the
 * consumer deletes it with one DeleteMessageBatch. Everything else default: 20 s long polls,
 * the queue's visibility timeout (30 s), no heartbeat.
 *
 * Jobs are enqueued with the AWS SDK, as its users do (sqs-consumer only consumes):
 * SendMessageBatch in tens for a bulk, sent side by side; SendMessage for a single job.
 */
async function sqsConsumer(endpoint: string, prefix: string, handler: Handler, tuning: Tuning): Promise<Library> {
  const { Consumer } = await import("sqs-consumer");
  const sqs = sqsClient(endpoint);
  const queueName = `${prefix}noop`;
  const QueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: queueName }))).QueueUrl!;
  const maxBatch = Math.min(10, Math.max(1, number(tuning, "batchSize", 10)));
  let consumers: Consumer[] = [];
  let closing = false;
  let woken = 0;
  const report = (what: string) => (error: Error) => {
    if (!closing) process.stderr.write(`sqs-consumer ${what}: ${error.message}\n`);
  };
  return {
    name: "sqs-consumer",
    settings: {
      version: SQS_CONSUMER_VERSION,
      handler: handler === "batch" ? "handleMessageBatch" : "handleMessage",
      consumers: `ceil(concurrency / ${maxBatch}), one SQSClient`,
      batchSize: `concurrency / consumers (at most ${maxBatch})`,
      enqueue: "SendMessageBatch in tens, side by side (bulk); SendMessage (single)",
      other: "defaults: waitTimeSeconds 20, the queue's visibility timeout (30 s), no heartbeat",
    },
    latencyGapMs: 2,
    queueName,
    enqueueBulk: async (from, count) => {
      const sends: Promise<unknown>[] = [];
      for (let start = 0; start < count; start += 10) {
        const Entries = Array.from({ length: Math.min(10, count - start) }, (_, i) => ({ Id: String(i), MessageBody: JSON.stringify({ n: from + start + i }) }));
        sends.push(
          sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries })).then(({ Failed }) => {
            if (Failed?.length) throw new Error(`SendMessageBatch refused ${Failed.length} messages: ${Failed[0]!.Code}`);
          }),
        );
      }
      await Promise.all(sends);
    },
    enqueueOne: async (n) => {
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify({ n }) }));
    },
    startWorkers: async (concurrency, onStart) => {
      const count = Math.ceil(concurrency / maxBatch);
      const batchSize = Math.ceil(concurrency / count);
      const run = (message: Message) => {
        if (message.Body === WAKE) woken++;
        else onStart((JSON.parse(message.Body!) as { n: number }).n);
      };
      consumers = Array.from({ length: count }, () => {
        const consumer =
          handler === "batch"
            ? Consumer.create({
                queueUrl: QueueUrl,
                sqs,
                batchSize,
                handleMessageBatch: async (messages) => {
                  for (const message of messages) run(message);
                  return messages;
                },
              })
            : Consumer.create({
                queueUrl: QueueUrl,
                sqs,
                batchSize,
                handleMessage: async (message) => {
                  run(message);
                  return message;
                },
              });
        consumer.on("error", report("error"));
        consumer.on("processing_error", report("processing_error"));
        consumer.start();
        return consumer;
      });
    },
    /**
     * `stop()` only stops new polls: a consumer still waits out the long poll it is in
     * (20 s) and handles what that poll brings, which after the warm-up would be jobs of the
     * timed drain. `stop({ abort: true })` would leave that poll alive in the emulator, which
     * does not notice the client hung up and later takes up to ten messages for nobody (in
     * flight for the 30 s visibility timeout). So each waiting poll is answered
     * with a wake-up message (one at a time, the handler deletes it and counts no start)
     * until no consumer polls; one left over when a consumer was busy rather than waiting
     * is deleted here. Not timed.
     */
    stopWorkers: async () => {
      for (const consumer of consumers) consumer.stop();
      const deadline = performance.now() + 30_000;
      let sent = woken;
      while (consumers.some((consumer) => consumer.status.isPolling)) {
        if (performance.now() > deadline) throw new Error("sqs-consumer: consumers still polling 30 s after stop()");
        if (woken === sent) {
          await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: WAKE }));
          sent++;
        }
        await sleep(2);
      }
      consumers = [];
      while ((await messagesLeft(sqs, QueueUrl)) > 0) {
        if (performance.now() > deadline) throw new Error("sqs-consumer: messages left after the warm-up drain");
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
        if (Messages.some((message) => message.Body !== WAKE)) throw new Error("sqs-consumer: a job was left after the warm-up drain");
        if (Messages.length > 0) {
          await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
        }
      }
    },
    close: async () => {
      closing = true;
      // The queue is deleted next, which ends any poll still waiting in the emulator.
      for (const consumer of consumers) consumer.stop({ abort: true });
      sqs.destroy();
    },
  };
}

/** Opens a library under `prefix` (nothing else is there yet); `handler` only matters for sqs-consumer. */
export function openLibrary(name: LibraryName, endpoint: string, prefix: string, handler: Handler = "message", tuning: Tuning = {}): Promise<Library> {
  return name === "errand" ? errand(endpoint, prefix, tuning) : sqsConsumer(endpoint, prefix, handler, tuning);
}
