// Flow control on SQS through a shared status store: the crash windows between the store and
// SQS (a claim recorded but never sent; a parked job's message seen again), a parked job sent
// again once its slot frees, a failed send forgetting its claim, and core's refusal when the
// store is this process's own (LocalStatusStore).
import { randomUUID } from "node:crypto";

import { GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";

import { RedisStatusStore } from "@errand/adapter-redis";
import { SqsAdapter } from "@errand/adapter-sqs";
import { configure, Job, type Runtime } from "@errand/core";
import type { JobPayload, Reservation } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { sqsEndpoint, sqsPrefix, TEST_SQS_CONFIG } from "./support/sqs.js";

const endpoint = sqsEndpoint();
const redis = redisUrl();
const prefixes: string[] = [];
const open: SqsAdapter[] = [];
let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  await Promise.all(open.splice(0).map((adapter) => adapter.close()));
});
afterAll(() => dropPrefixes(redis, prefixes));

/** Two adapters ("processes") on one queue prefix and one Redis store prefix. */
function processes(claimTimeoutMs = 30_000): [SqsAdapter, SqsAdapter] {
  const queuePrefix = sqsPrefix();
  const prefix = redisPrefix("errand-flow-t");
  prefixes.push(prefix);
  const make = () => new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix, claimTimeoutMs, status: new RedisStatusStore({ url: redis, prefix }) });
  const pair: [SqsAdapter, SqsAdapter] = [make(), make()];
  open.push(...pair);
  return pair;
}

function payload(flow: NonNullable<JobPayload["flow"]>, queue = "default"): JobPayload {
  const now = new Date().toISOString();
  return { v: 1, job: "FlowJob", id: randomUUID(), queue, priority: 0, args: { json: [] }, executions: 0, enqueuedAt: now, runAt: now, flow };
}

const idOf = (r: Reservation) => (JSON.parse(r.body) as JobPayload).id;

/** Reserves until something comes back. */
function reserveSome(adapter: SqsAdapter, message: string, leaseMs = 30_000): Promise<Reservation[]> {
  return waitFor(
    async () => {
      const taken = await adapter.reserve({ queues: ["default"], max: 10, leaseMs, waitMs: 0, workerId: "w" });
      return taken.length > 0 ? taken : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 50, message },
  );
}

/** Messages SQS holds in a queue, visible or not. */
async function messagesIn(adapter: SqsAdapter, queue = "default"): Promise<number> {
  const { url } = await adapter.queues.get(queue);
  const { Attributes = {} } = await adapter.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible) + Number(Attributes.ApproximateNumberOfMessagesDelayed);
}

describe("sqs flow control: the crash windows between the status store and SQS", () => {
  it("a claim left unconfirmed (its process died before sending) is sent once, by another adapter's upkeep", async () => {
    const [crashed, other] = processes(300);
    const job = payload({ unique: { key: "report:1", while: "queued" } });
    // The first process records the claim, then dies before SendMessageBatch.
    const [claim] = await crashed.status.flow!.claim([{ payload: job, body: JSON.stringify(job) }]);
    expect(claim).toMatchObject({ claimed: true });
    await crashed.queues.get("default");
    expect(await messagesIn(crashed)).toBe(0);
    // The key is held meanwhile: the job is queued as far as every process knows.
    const duplicate = payload({ unique: { key: "report:1", while: "queued" } });
    expect(await other.enqueue({ jobs: [duplicate] })).toEqual([{ jobId: job.id, providerJobId: job.id, duplicate: true }]);
    expect((await other.getStatus({ ids: [job.id] }))[0]?.state).toBe("queued");
    // The other process's upkeep (run as it reserves) takes the claim over and sends it.
    const taken = await reserveSome(other, "the claimed job to be sent by the other process");
    expect(taken.map(idOf)).toEqual([job.id]);
    await other.settle({ settlements: [{ reservation: taken[0]!, outcome: "succeeded" }] });
    // Confirmed: nothing is left for a later upkeep to send again.
    expect(await other.status.flow!.sweep({ claimTimeoutMs: 0, limit: 100 })).toEqual([]);
    expect(await messagesIn(other)).toBe(0);
    expect((await other.getStatus({ ids: [job.id] }))[0]).toMatchObject({ state: "succeeded", executions: 1 });
  });

  it("a parked job leaves SQS, stays queued, and is sent again once the slot frees", async () => {
    const [adapter] = processes();
    const concurrency = { key: "acct-7", limit: 1 };
    const [first, second] = [payload({ concurrency }), payload({ concurrency })];
    await adapter.enqueue({ jobs: [first, second] });
    const held = await reserveSome(adapter, "the first job");
    expect(held).toHaveLength(1);
    const waiting = idOf(held[0]!) === first.id ? second : first;
    // The other one was received, parked in the store, and its message deleted.
    await waitFor(async () => (await adapter.status.flow!.counts(["default"]))[0]!.parked === 1, { message: "the second job to be parked" });
    expect(await messagesIn(adapter)).toBe(1);
    expect((await adapter.getStatus({ ids: [waiting.id] }))[0]).toMatchObject({ state: "queued", executions: 0 });
    expect((await adapter.listQueues()).find((queue) => queue.name === "default")).toMatchObject({ queued: 1, running: 1 });
    // Settling the holder lets the parked job go: its body is sent again.
    await adapter.settle({ settlements: [{ reservation: held[0]!, outcome: "succeeded" }] });
    const next = await reserveSome(adapter, "the parked job, sent again");
    expect(next.map(idOf)).toEqual([waiting.id]);
    expect(JSON.parse(next[0]!.body)).toEqual(waiting);
    await adapter.settle({ settlements: [{ reservation: next[0]!, outcome: "succeeded" }] });
    expect((await adapter.getStatus({ ids: [waiting.id] }))[0]).toMatchObject({ state: "succeeded", executions: 1 });
  });

  it("a copy of a parked job's message received again (its delete was lost) is deleted, not run", async () => {
    const [adapter] = processes();
    const concurrency = { key: "acct-8", limit: 1 };
    const [first, second] = [payload({ concurrency }), payload({ concurrency })];
    await adapter.enqueue({ jobs: [first] });
    const held = await reserveSome(adapter, "the first job");
    await adapter.enqueue({ jobs: [second] });
    await waitFor(async () => (await adapter.reserve({ queues: ["default"], max: 10, leaseMs: 30_000, waitMs: 0, workerId: "w" })).length === 0 && (await adapter.status.flow!.counts(["default"]))[0]!.parked === 1, {
      message: "the second job to be parked",
    });
    // A second copy of the parked job (a send doubled, or a delete SQS lost) comes in.
    const { url } = await adapter.queues.get("default");
    await adapter.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(second) }));
    await waitFor(async () => (await adapter.reserve({ queues: ["default"], max: 10, leaseMs: 30_000, waitMs: 0, workerId: "w" })).length === 0 && (await messagesIn(adapter)) === 1, {
      message: "the copy to be received and deleted",
    });
    // The job still runs once, when the slot frees.
    await adapter.settle({ settlements: [{ reservation: held[0]!, outcome: "succeeded" }] });
    const next = await reserveSome(adapter, "the parked job, sent again");
    expect(next.map(idOf)).toEqual([second.id]);
  });

  it("an upkeep pass that fails (the store's data damaged) fails the next reserve once, naming it; reserves go on after", async () => {
    const [adapter] = processes(100);
    const prefix = prefixes.at(-1)!;
    const client = new Redis(redis);
    try {
      // The store's pending sends by time, where the sweep looks first, made a string: WRONGTYPE.
      await client.set(`{${prefix}}:f:oz`, "damaged");
      await adapter.reserve({ queues: ["default"], max: 1, leaseMs: 30_000, waitMs: 0, workerId: "w" });
      const failed = await waitFor(
        async () => {
          try {
            await adapter.reserve({ queues: ["default"], max: 1, leaseMs: 30_000, waitMs: 0, workerId: "w" });
            return undefined;
          } catch (error) {
            return error as Error;
          }
        },
        { timeoutMs: 5_000, intervalMs: 20, message: "a reserve to report the failed upkeep" },
      );
      expect(failed.message).toMatch(/flow-control upkeep \(the status store's sweep\) failed: .*WRONGTYPE/);
      await client.del(`{${prefix}}:f:oz`);
      expect(await adapter.reserve({ queues: ["default"], max: 1, leaseMs: 30_000, waitMs: 0, workerId: "w" })).toEqual([]);
    } finally {
      client.disconnect();
    }
  });

  it("a send SQS refuses forgets its claim: no status, and the key is free again", async () => {
    const [adapter] = processes();
    const unique = { key: "too-big", while: "active" as const };
    // A queue name SQS refuses fails the group's send after the claim was recorded.
    const refused = payload({ unique }, "bad queue name");
    await expect(adapter.enqueue({ jobs: [refused] })).rejects.toThrow(/SQS refuses/);
    expect(await adapter.getStatus({ ids: [refused.id] })).toEqual([null]);
    const again = payload({ unique });
    expect(await adapter.enqueue({ jobs: [again] })).toEqual([{ jobId: again.id, providerJobId: again.id }]);
    expect(await adapter.status.flow!.sweep({ claimTimeoutMs: 0, limit: 100 })).toEqual([]);
  });
});

describe("sqs flow control with statuses in this process only (LocalStatusStore)", () => {
  class ReportJob extends Job<[month: string]> {
    static override unique = { key: (month: string) => month, while: "queued" as const };
    async perform(_month: string) {}
  }
  class SyncJob extends Job<[account: string]> {
    static override concurrencyLimit = { key: (account: string) => account, limit: 1 };
    async perform(_account: string) {}
  }

  it("has no flow capabilities, and core's refusal says a shared status store is needed", async () => {
    const adapter = new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix: sqsPrefix() });
    open.push(adapter);
    expect(adapter.capabilities).toMatchObject({ unique: false, concurrencyLimits: false, rateLimits: false, recurring: false });
    expect(adapter.recurringState).toBeUndefined();
    runtime = configure({ adapter, jobs: [ReportJob, SyncJob], worker: { embedded: false } });
    const shared = /needs a shared one \(status: new RedisStatusStore\(\.\.\.\) from @errand\/adapter-redis, or new PostgresStatusStore\(\.\.\.\) from @errand\/adapter-postgres\)/;
    await expect(ReportJob.performLater("2026-11")).rejects.toThrow(/ReportJob: the sqs adapter does not support unique jobs \(capability unique\): the sqs adapter enforces flow control through its status store/);
    await expect(ReportJob.performLater("2026-11")).rejects.toThrow(shared);
    await expect(SyncJob.performLater("acct")).rejects.toThrow(/concurrency limits \(capability concurrencyLimits\): .*needs a shared one/);
    expect(await messagesIn(adapter)).toBe(0);
  });
});
