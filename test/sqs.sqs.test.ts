// SQS internals that only raw SQS facts can show, and the limits the emulator does not
// enforce. The fauxqs emulator is more lenient than AWS: it takes out-of-range delays and
// returns message attributes nobody asked for, and prefixes error names. So the adapter's
// own checks are unit-tested here, and requests are observed on the wire (an SDK
// middleware on a real client talking to the real emulator) to show what AWS would see.
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type ReceiveMessageCommandInput,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, describe, expect, it } from "vitest";

import { batches, checkQueueName, delaySeconds, errorName, isMissingQueue, SqsAdapter, visibilitySeconds } from "@errand/adapter-sqs";
import { configure, Job, performAllLater, Worker } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { sqsEndpoint, sqsPrefix, testSqsClient, TEST_SQS_CONFIG } from "./support/sqs.js";

const endpoint = sqsEndpoint();
const adapters: SqsAdapter[] = [];
afterAll(async () => {
  for (const adapter of adapters) await adapter.close();
});

function freshAdapter(options: ConstructorParameters<typeof SqsAdapter>[0] = {}): SqsAdapter {
  const adapter = new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix: sqsPrefix(), ...options });
  adapters.push(adapter);
  return adapter;
}

/** Records the input of every command of `name` the client sends. */
function observe<T>(client: SQSClient, name: string): T[] {
  const seen: T[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === name) seen.push(args.input as T);
      return next(args);
    },
    { step: "initialize", name: `observe-${name}-${Math.random()}` },
  );
  return seen;
}

async function counts(sqs: SQSClient, url: string) {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible"] }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed),
    hidden: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

class EchoJob extends Job<[n: number]> {
  perform(n: number) {
    return n;
  }
}

describe("sqs limits the emulator does not enforce", () => {
  it("delays are whole seconds within 0–900, visibility within 0–43,200", () => {
    const now = 1_000_000;
    expect(delaySeconds(now - 5_000, now)).toBe(0);
    expect(delaySeconds(now + 1, now)).toBe(1);
    expect(delaySeconds(now + 899_001, now)).toBe(900);
    expect(delaySeconds(now + 3 * 86_400_000, now)).toBe(900);
    expect(visibilitySeconds(1500)).toBe(2);
    expect(visibilitySeconds(86_400_000)).toBe(43_200);
  });

  it("batches hold at most ten entries and at most 1 MiB", () => {
    expect(batches(Array.from({ length: 25 }, (_, i) => i), () => 1).map((b) => b.length)).toEqual([10, 10, 5]);
    const big = 400_000;
    expect(batches([1, 2, 3, 4, 5], () => big).map((b) => b.length)).toEqual([2, 2, 1]);
    // A single entry is never split off empty-handed.
    expect(batches([1], () => 2_000_000)).toEqual([[1]]);
  });

  it("error names lose the emulator's AWS.SimpleQueueService. prefix; both names of a missing queue are recognised", () => {
    expect(errorName({ name: "AWS.SimpleQueueService.NonExistentQueue" })).toBe("NonExistentQueue");
    expect(errorName({ name: "QueueDoesNotExist" })).toBe("QueueDoesNotExist");
    expect(isMissingQueue({ name: "AWS.SimpleQueueService.NonExistentQueue" })).toBe(true);
    expect(isMissingQueue({ name: "QueueDoesNotExist" })).toBe(true);
    expect(isMissingQueue({ name: "AccessDenied" })).toBe(false);
  });

  it("queue names SQS would refuse are an error naming the Errand queue", () => {
    expect(checkQueueName("errand-reports", "reports")).toBe("errand-reports");
    expect(() => checkQueueName("errand-a:b", "a:b")).toThrow(/queue "a:b" maps to SQS queue name "errand-a:b", which SQS refuses/);
    expect(() => checkQueueName(`errand-${"x".repeat(80)}`, "long")).toThrow(/80 characters/);
  });
});

describe("sqs internals", () => {
  it("asks for its message attributes by name (AWS returns only those asked for)", async () => {
    const adapter = freshAdapter();
    const receives = observe<ReceiveMessageCommandInput>(adapter.sqs, "ReceiveMessageCommand");
    await adapter.reserve({ queues: ["default"], max: 5, leaseMs: 30_000, waitMs: 0, workerId: "t" });
    expect(receives.length).toBeGreaterThan(0);
    for (const input of receives) expect(input.MessageAttributeNames).toEqual(expect.arrayContaining(["errand-run-at", "errand-error", "errand-died-at"]));
  });

  it("a wait past 15 minutes is sent with the longest delay and its due time, and is scheduled", async () => {
    const adapter = freshAdapter();
    const runtime = configure({ adapter, worker: { embedded: false } });
    try {
      const sends = observe<{ Entries: { DelaySeconds?: number; MessageAttributes?: Record<string, { StringValue?: string }> }[] }>(adapter.sqs, "SendMessageBatchCommand");
      const { jobId, scheduledAt } = await EchoJob.set({ wait: "3d" }).performLater(1);
      const entry = sends.at(-1)!.Entries[0]!;
      expect(entry.DelaySeconds).toBe(900);
      expect(Number(entry.MessageAttributes!["errand-run-at"]!.StringValue)).toBe(scheduledAt.getTime());
      expect((await EchoJob.status(jobId))?.state).toBe("scheduled");
      const { url } = await adapter.queues.get("default");
      expect(await counts(adapter.sqs, url)).toMatchObject({ visible: 0, delayed: 1 });
    } finally {
      await runtime.close();
    }
  });

  it("a message received before its due time hops: sent again with the rest of its delay, the early copy deleted", async () => {
    const adapter = freshAdapter();
    const { url } = await adapter.queues.get("default");
    const runAt = Date.now() + 600_000;
    const body = JSON.stringify({ v: 1, job: "EchoJob", id: "hop-1", queue: "default", priority: 0, args: { json: [1] }, executions: 0, enqueuedAt: new Date().toISOString(), runAt: new Date(runAt).toISOString() });
    // Delivered now, as the last 15-minute hop of a 3-day wait would be before its time.
    await adapter.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageAttributes: { "errand-run-at": { DataType: "Number", StringValue: String(runAt) } } }));
    const sends = observe<{ Entries: { DelaySeconds?: number }[] }>(adapter.sqs, "SendMessageBatchCommand");
    expect(await adapter.reserve({ queues: ["default"], max: 5, leaseMs: 30_000, waitMs: 0, workerId: "t" })).toEqual([]);
    const delay = sends.at(-1)!.Entries[0]!.DelaySeconds!;
    expect(delay).toBeGreaterThan(590);
    expect(delay).toBeLessThanOrEqual(600);
    expect(await counts(adapter.sqs, url)).toEqual({ visible: 0, delayed: 1, hidden: 0 });
  });

  it("a payload over SQS's size limit is refused before anything is sent, naming its size", async () => {
    const adapter = freshAdapter();
    const runtime = configure({ adapter, worker: { embedded: false } });
    try {
      const sends = observe<unknown>(adapter.sqs, "SendMessageBatchCommand");
      class BlobJob extends Job<[blob: string]> {
        perform(blob: string) {
          return blob.length;
        }
      }
      await expect(BlobJob.performLater("x".repeat(1_100_000))).rejects.toThrow(/BlobJob: the payload is \d+ bytes, over the sqs adapter's limit of 1047552/);
      expect(sends).toEqual([]);
    } finally {
      await runtime.close();
    }
  });

  it("a missing queue with createQueues off is an error naming the SQS queues to create", async () => {
    const adapter = freshAdapter({ createQueues: false });
    await expect(adapter.queues.get("nowhere")).rejects.toThrow(/SQS queue \S+nowhere and \S+nowhere-dead for Errand queue "nowhere" does not exist, and createQueues is off/);
  });

  it("a created queue has a redrive policy to its dead-letter queue", async () => {
    const adapter = freshAdapter({ maxReceiveCount: 7 });
    const { url, deadUrl } = await adapter.queues.get("default");
    const [{ Attributes: main }, { Attributes: dead }] = await Promise.all([
      adapter.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["RedrivePolicy"] })),
      adapter.sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadUrl, AttributeNames: ["QueueArn"] })),
    ]);
    expect(JSON.parse(main!.RedrivePolicy!)).toEqual({ deadLetterTargetArn: dead!.QueueArn, maxReceiveCount: 7 });
  });

  it("a waiting reserve stopped mid-poll hands back what its poll brings later, instead of hiding it for the lease", async () => {
    const adapter = freshAdapter();
    const { url } = await adapter.queues.get("default");
    const controller = new AbortController();
    const receives = observe<ReceiveMessageCommandInput>(adapter.sqs, "ReceiveMessageCommand");
    const waiting = adapter.reserve({ queues: ["default"], max: 5, leaseMs: 60_000, waitMs: 5_000, workerId: "t", signal: controller.signal });
    // Once the long poll is on its way, stop the reserve and send a job the poll will take.
    await waitFor(() => receives.some((input) => (input.WaitTimeSeconds ?? 0) > 0), { message: "the long poll to start" });
    controller.abort();
    expect(await waiting).toEqual([]);
    const raw = testSqsClient(endpoint);
    try {
      await raw.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify({ v: 1, job: "EchoJob", id: "late-1", queue: "default", priority: 0, args: { json: [1] }, executions: 0, enqueuedAt: new Date().toISOString(), runAt: new Date().toISOString() }) }));
      // Whether or not the abandoned poll took it, the message is visible again within moments, not after 60 s.
      await waitFor(async () => (await counts(raw, url)).visible === 1, { timeoutMs: 10_000, message: "the message to be visible" });
      const { Messages = [] } = await raw.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
      expect(Messages.map((m) => JSON.parse(m.Body!).id)).toEqual(["late-1"]);
    } finally {
      raw.destroy();
    }
  });

  it("a worker drains jobs sent with several receives in flight, deleting in batches", async () => {
    const adapter = freshAdapter();
    const runtime = configure({ adapter, worker: { embedded: false } });
    const deletes = observe<{ Entries: unknown[] }>(adapter.sqs, "DeleteMessageBatchCommand");
    const worker = new Worker({ runtime, queues: "default", concurrency: 20 });
    try {
      await Promise.all(Array.from({ length: 10 }, (_, k) => EchoJob.performLater(k)));
      await performAllLater(Array.from({ length: 190 }, (_, k) => new EchoJob(10 + k)));
      await worker.start();
      await waitFor(() => worker.processed === 200, { timeoutMs: 20_000, message: "200 jobs to run" });
      await worker.stop();
      const { url } = await adapter.queues.get("default");
      expect(await counts(adapter.sqs, url)).toEqual({ visible: 0, delayed: 0, hidden: 0 });
      expect(Math.max(...deletes.map((d) => d.Entries.length))).toBe(10);
    } finally {
      await worker.stop();
      await runtime.close();
    }
  });
});
