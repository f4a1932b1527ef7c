// The SQS adapter when SQS or the status store fails part of a call, and when one batch
// holds two deliveries of one job. The failures are made on a real client talking to the
// real emulator: an SDK middleware takes chosen entries out of a batch request before it is
// sent and reports them Failed in the answer, as SQS does when it fails an entry on its
// side, so the emulator really keeps those messages.
import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  type BatchResultErrorEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, describe, expect, it } from "vitest";

import { SqsAdapter } from "@errand/adapter-sqs";
import { LocalStatusStore, type JobPayload, type Reservation, type StatusLease, type StatusStore } from "@errand/core/adapter";

import { payload, reserve } from "./conformance/harness.js";
import { sqsEndpoint, sqsPrefix, testSqsClient } from "./support/sqs.js";

const endpoint = sqsEndpoint();
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of cleanup) await close();
});

/** An adapter on its own real client and queue prefix. */
function adapterWith(status: StatusStore = new LocalStatusStore()) {
  const sqs = testSqsClient(endpoint);
  const adapter = new SqsAdapter({ client: sqs, queuePrefix: sqsPrefix(), status });
  cleanup.push(async () => {
    await adapter.close();
    sqs.destroy();
  });
  return { adapter, sqs, status };
}

type Entry = { Id?: string; ReceiptHandle?: string; MessageBody?: string };

/**
 * Fails, on SQS's side (or as a sender fault), the entries `pick` chooses in calls of
 * `command`, for the next `times` calls that have one. Returns each call's entry count.
 */
function failEntries(sqs: SQSClient, command: string, pick: (entry: Entry) => boolean, { times = Infinity, senderFault = false } = {}): number[] {
  const calls: number[] = [];
  let left = times;
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== command) return next(args);
      const input = args.input as { Entries: Entry[] };
      calls.push(input.Entries.length);
      const failing = left > 0 ? input.Entries.filter(pick) : [];
      if (failing.length === 0) return next(args);
      left--;
      const failed: BatchResultErrorEntry[] = failing.map((entry) => ({ Id: entry.Id!, SenderFault: senderFault, Code: "InternalError", Message: "injected" }));
      const rest = input.Entries.filter((entry) => !failing.includes(entry));
      // SQS refuses an empty batch: with nothing left to send, answer alone.
      if (rest.length === 0) return { output: { $metadata: {}, Successful: [], Failed: failed }, response: {} } as Awaited<ReturnType<typeof next>>;
      const result = await next({ ...args, input: { ...input, Entries: rest } as typeof args.input });
      const output = result.output as { Failed?: BatchResultErrorEntry[] };
      output.Failed = [...(output.Failed ?? []), ...failed];
      return result;
    },
    { step: "initialize", name: `fail-${command}-${Math.random()}` },
  );
  return calls;
}

async function messagesIn(sqs: SQSClient, url: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible) + Number(Attributes.ApproximateNumberOfMessagesDelayed);
}

const idOf = (reservation: Reservation) => (JSON.parse(reservation.body) as JobPayload).id;
const states = async (adapter: SqsAdapter, ids: string[]) => (await adapter.getStatus({ ids })).map((status) => status?.state);

describe("sqs: deletes SQS fails", () => {
  it("an entry SQS failed on its side is deleted again: the message is gone, the job does not run twice", async () => {
    const { adapter, sqs } = adapterWith();
    const jobs = [payload(), payload(), payload()];
    await adapter.enqueue({ jobs });
    const reserved = await reserve(adapter);
    const calls = failEntries(sqs, "DeleteMessageBatchCommand", (entry) => entry.Id === "0", { times: 1 });
    await adapter.settle({ settlements: reserved.map((reservation) => ({ reservation, outcome: "succeeded" as const })) });
    expect(calls).toEqual([3, 1]);
    const { url } = await adapter.queues.get("default");
    expect(await messagesIn(sqs, url)).toBe(0);
    expect(await states(adapter, jobs.map((job) => job.id))).toEqual(["succeeded", "succeeded", "succeeded"]);
  });

  it("a delete that keeps failing is an error naming the job; it stays current, so settling again finishes it", async () => {
    const { adapter, sqs } = adapterWith();
    const jobs = [payload(), payload()];
    await adapter.enqueue({ jobs });
    const reserved = await reserve(adapter);
    const stuck = reserved.find((r) => idOf(r) === jobs[0]!.id)!;
    const receipt = (stuck.handle as { receipt: string }).receipt;
    const calls = failEntries(sqs, "DeleteMessageBatchCommand", (entry) => entry.ReceiptHandle === receipt, { times: 3 });
    const settlements = reserved.map((reservation) => ({ reservation, outcome: "succeeded" as const }));
    await expect(adapter.settle({ settlements })).rejects.toThrow(`SQS did not delete 1 of 2 messages (the others were deleted): job ${jobs[0]!.id}: InternalError injected`);
    // Three attempts, then the error; the other job was deleted and recorded.
    expect(calls).toEqual([2, 1, 1]);
    expect(await states(adapter, [jobs[0]!.id, jobs[1]!.id])).toEqual(["running", "succeeded"]);
    // Core settles the batch again: the recorded one is stale now, the other goes.
    await adapter.settle({ settlements });
    expect(calls.slice(3)).toEqual([1]);
    const { url } = await adapter.queues.get("default");
    expect(await messagesIn(sqs, url)).toBe(0);
    expect(await states(adapter, [jobs[0]!.id])).toEqual(["succeeded"]);
  });
});

describe("sqs: two deliveries of one job in one batch", () => {
  it("only the earlier delivery is stale: the current one extends and settles", async () => {
    const { adapter, sqs } = adapterWith();
    const job = payload();
    await adapter.enqueue({ jobs: [job] });
    const [first] = await reserve(adapter, { max: 1, leaseMs: 60_000 });
    // Its lease runs out (made visible now), and the job is delivered again.
    const { url } = await adapter.queues.get("default");
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: (first!.handle as { receipt: string }).receipt, VisibilityTimeout: 0 }));
    const [second] = await reserve(adapter, { max: 1, leaseMs: 60_000 });
    expect(idOf(second!)).toBe(job.id);

    // Both holders in one batch, as one worker's batched calls may carry them.
    expect(await adapter.extendLease({ reservations: [first!, second!], leaseMs: 60_000 })).toEqual([first!.providerJobId]);
    await adapter.settle({
      settlements: [
        { reservation: first!, outcome: "released" },
        { reservation: second!, outcome: "succeeded" },
      ],
    });
    expect((await adapter.getStatus({ ids: [job.id] }))[0]).toMatchObject({ state: "succeeded", executions: 2 });
    expect(await messagesIn(sqs, url)).toBe(0);
  });
});

/** A real in-memory store whose next `started` write fails. */
class StartFailsOnce extends LocalStatusStore {
  private failed = false;

  override async started(leases: readonly StatusLease[]): Promise<void> {
    if (!this.failed) {
      this.failed = true;
      throw new Error("status store unreachable");
    }
    await super.started(leases);
  }
}

describe("sqs: a status store that fails as messages are handed out", () => {
  it("the received messages go back at once (not hidden for the lease) and the error is reported", async () => {
    const { adapter } = adapterWith(new StartFailsOnce());
    const jobs = [payload(), payload()];
    await adapter.enqueue({ jobs });
    await expect(reserve(adapter, { leaseMs: 300_000 })).rejects.toThrow("status store unreachable");
    const again = await reserve(adapter, { leaseMs: 300_000 });
    expect(again.map(idOf).sort()).toEqual(jobs.map((job) => job.id).sort());
    expect(await states(adapter, jobs.map((job) => job.id))).toEqual(["running", "running"]);
  });
});

describe("sqs: a hop whose early copy SQS does not delete", () => {
  it("is an error naming the job, and the messages received with it go back at once", async () => {
    const { adapter, sqs } = adapterWith();
    const { url } = await adapter.queues.get("default");
    const [early, due] = [payload({ runAt: new Date(Date.now() + 600_000).toISOString() }), payload()];
    // Delivered now, as the last 15-minute hop of a long wait would be before its time.
    await sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(early), MessageAttributes: { "errand-run-at": { DataType: "Number", StringValue: String(Date.parse(early.runAt)) } } }),
    );
    await adapter.enqueue({ jobs: [due] });
    failEntries(sqs, "DeleteMessageBatchCommand", () => true);
    await expect(reserve(adapter, { leaseMs: 300_000 })).rejects.toThrow(`SQS did not delete 1 of 1 messages (the others were deleted): job ${early.id}`);
    expect((await reserve(adapter, { leaseMs: 300_000 })).map(idOf)).toEqual([due.id]);
  });
});

/** Core's revive: executions 0, due now. */
const revive = (body: string) => {
  const revived = { ...(JSON.parse(body) as JobPayload), executions: 0, runAt: new Date().toISOString() };
  return { payload: revived, body: JSON.stringify(revived) };
};

/** Enqueues `count` jobs and settles them dead; returns their ids. */
async function deadJobs(adapter: SqsAdapter, count: number): Promise<string[]> {
  const jobs = Array.from({ length: count }, () => payload());
  await adapter.enqueue({ jobs });
  for (let settled = 0; settled < count; ) {
    const reserved = await reserve(adapter, { max: count - settled });
    await adapter.settle({ settlements: reserved.map((reservation) => ({ reservation, outcome: "dead" as const, error: { name: "Error", message: "boom" } })) });
    settled += reserved.length;
  }
  return jobs.map((job) => job.id);
}

describe("sqs: retrying the dead set", () => {
  it("moves jobs back ten at a time: one send and one delete per ten, not per job", async () => {
    const { adapter, sqs } = adapterWith();
    const ids = await deadJobs(adapter, 25);
    const { url, deadUrl } = await adapter.queues.get("default");
    const sends: number[] = [];
    const deletes: number[] = [];
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { QueueUrl: string; Entries: unknown[] };
        if (context.commandName === "SendMessageBatchCommand" && input.QueueUrl === url) sends.push(input.Entries.length);
        if (context.commandName === "DeleteMessageBatchCommand" && input.QueueUrl === deadUrl) deletes.push(input.Entries.length);
        return next(args);
      },
      { step: "initialize", name: "count-batches" },
    );
    expect(await adapter.retryDead({ select: { all: true }, revive })).toBe(25);
    expect(sends).toEqual([10, 10, 5]);
    expect(deletes).toEqual([10, 10, 5]);
    expect(await messagesIn(sqs, deadUrl)).toBe(0);
    expect(await messagesIn(sqs, url)).toBe(25);
    expect(new Set(await states(adapter, ids))).toEqual(new Set(["queued"]));
  });

  it("a job whose send is refused stays dead, status included, and is listed again at once; the others move", async () => {
    const { adapter, sqs } = adapterWith();
    const [refused, moved] = await deadJobs(adapter, 2);
    failEntries(sqs, "SendMessageBatchCommand", (entry) => (JSON.parse(entry.MessageBody!) as JobPayload).id === refused, { senderFault: true });
    await expect(adapter.retryDead({ select: { all: true }, revive })).rejects.toThrow(`SQS refused 1 of 2 messages (the others were sent): RecordJob ${refused}: InternalError injected`);
    expect((await adapter.getStatus({ ids: [refused!] }))[0]).toMatchObject({ state: "dead", error: { message: "boom" } });
    expect(await states(adapter, [moved!])).toEqual(["queued"]);
    expect((await adapter.listDead({})).map((dead) => dead.id)).toEqual([refused]);
    expect((await reserve(adapter)).map(idOf)).toEqual([moved]);
  });
});
