// Batches on SQS through each shared status store (Redis, PostgreSQL), at the adapter's
// level: the callback sent when the last job settles; a process killed between the store's
// decision and the send (the upkeep of another process sends the callback, once); a callback
// whose message SQS holds twice runs once. And the capability off, with the note saying why,
// on this process's own store (LocalStatusStore).
import { randomUUID } from "node:crypto";

import { ChangeMessageVisibilityCommand, GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";

import { PostgresStatusStore } from "@errand/adapter-postgres";
import { RedisStatusStore } from "@errand/adapter-redis";
import { SqsAdapter } from "@errand/adapter-sqs";
import { LocalStatusStore, uuidv7, type FlowPending, type JobPayload, type NewBatch, type Reservation, type StatusStore } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { postgresUrl } from "./support/postgres.js";
import { SchemaPool } from "./support/postgres-schemas.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { sqsEndpoint, sqsPrefix, TEST_SQS_CONFIG } from "./support/sqs.js";

const endpoint = sqsEndpoint();
const prefixes: string[] = [];
let schemas: SchemaPool | undefined;
const open: SqsAdapter[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((adapter) => adapter.close()));
});
afterAll(async () => {
  if (prefixes.length > 0) await dropPrefixes(redisUrl(), prefixes);
  await schemas?.drop();
});

type StoreName = "redis" | "postgres";

/** A store on a fresh prefix or schema (`where` undefined), or another process's view of one. */
async function storeAt(name: StoreName, where?: string): Promise<{ store: StatusStore; where: string }> {
  if (name === "redis") {
    const prefix = where ?? redisPrefix("errand-batch-t");
    if (!where) prefixes.push(prefix);
    return { store: new RedisStatusStore({ url: redisUrl(), prefix }), where: prefix };
  }
  schemas ??= new SchemaPool(postgresUrl(), "errand_status_t");
  const schema = where ?? (await schemas.take());
  return { store: schemas.hold(schema, new PostgresStatusStore({ url: postgresUrl(), schema })), where: schema };
}

/**
 * Two adapters ("processes") on one queue prefix and one store. The first one's store can be
 * made to lose what `settled` returns: the process died right after the store's step.
 */
async function processes(name: StoreName): Promise<{ crashing: SqsAdapter; other: SqsAdapter; lost: FlowPending[]; where: string }> {
  const queuePrefix = sqsPrefix();
  const first = await storeAt(name);
  const lost: FlowPending[] = [];
  const dying = new Proxy(first.store, {
    get(target, key, receiver) {
      if (key !== "settled") return Reflect.get(target, key, receiver) as unknown;
      return async (...args: Parameters<StatusStore["settled"]>) => {
        lost.push(...((await target.settled(...args)) ?? []));
        return [];
      };
    },
  });
  const crashing = new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix, status: dying });
  const second = await storeAt(name, first.where);
  const other = new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix, status: second.store, claimTimeoutMs: 300 });
  open.push(crashing, other);
  return { crashing, other, lost, where: first.where };
}

function payload(overrides: Partial<JobPayload> = {}): JobPayload {
  const now = new Date().toISOString();
  return { v: 1, job: "RowJob", id: randomUUID(), queue: "rows", priority: 0, args: { json: [] }, executions: 0, enqueuedAt: now, runAt: now, ...overrides };
}

function newBatch(): NewBatch {
  const id = uuidv7();
  return { id, callbacks: { complete: payload({ job: "NotifyJob", queue: "callbacks", batch: { id, callback: "complete" } }) }, createdAt: new Date().toISOString() };
}

const idOf = (r: Reservation) => (JSON.parse(r.body) as JobPayload).id;

function reserve(adapter: SqsAdapter, queue: string, max = 10): Promise<Reservation[]> {
  return adapter.reserve({ queues: [queue], max, leaseMs: 30_000, waitMs: 0, workerId: "w" });
}

/** Reserves until something comes back. */
function reserveSome(adapter: SqsAdapter, queue: string, message: string, max = 10): Promise<Reservation[]> {
  return waitFor(async () => {
    const taken = await reserve(adapter, queue, max);
    return taken.length > 0 ? taken : undefined;
  }, { timeoutMs: 15_000, intervalMs: 50, message });
}

/** Messages SQS holds in a queue, visible or not. */
async function messagesIn(adapter: SqsAdapter, queue: string): Promise<number> {
  const { url } = await adapter.queues.get(queue);
  const { Attributes = {} } = await adapter.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible) + Number(Attributes.ApproximateNumberOfMessagesDelayed);
}

/** Whether the store at `where` still holds a pending send for `id` (read raw, so no sweep takes it). */
async function pendingHeld(name: StoreName, where: string, id: string): Promise<boolean> {
  if (name === "redis") {
    const client = new Redis(redisUrl());
    try {
      return (await client.hexists(`{${where}}:f:o`, id)) === 1;
    } finally {
      client.disconnect();
    }
  }
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    return (await client.query(`SELECT 1 FROM "${where}".store_flow_pending WHERE id = $1`, [id])).rowCount === 1;
  } finally {
    await client.end();
  }
}

/** Opens a batch of `count` jobs on `adapter`, enqueues them and seals it. */
async function startBatch(adapter: SqsAdapter, count: number): Promise<{ batch: NewBatch; jobs: JobPayload[] }> {
  const batch = newBatch();
  await adapter.openBatches!({ batches: [batch] });
  const jobs = Array.from({ length: count }, () => payload({ batch: { id: batch.id } }));
  await adapter.enqueue({ jobs });
  await adapter.sealBatches!({ ids: [batch.id] });
  return { batch, jobs };
}

/** Reserves and settles `count` jobs of `queue` as succeeded. */
async function runAll(adapter: SqsAdapter, queue: string, count: number): Promise<string[]> {
  const ran: string[] = [];
  while (ran.length < count) {
    const taken = await reserveSome(adapter, queue, `${count - ran.length} more jobs of ${queue}`);
    await adapter.settle({ settlements: taken.map((reservation) => ({ reservation, outcome: "succeeded" as const })) });
    ran.push(...taken.map(idOf));
  }
  return ran;
}

describe("sqs batches: capabilities", () => {
  it("are on with a shared store, off with LocalStatusStore, whose note says to give a shared one", async () => {
    const local = new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix: sqsPrefix(), status: new LocalStatusStore() });
    open.push(local);
    expect(local.capabilities.batches).toBe(false);
    expect(local.openBatches).toBeUndefined();
    expect(local.capabilityNotes?.batches).toMatch(/needs a shared one \(status: new RedisStatusStore\(.*PostgresStatusStore/);
    for (const name of ["redis", "postgres"] as const) {
      const adapter = new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix: sqsPrefix(), status: (await storeAt(name)).store });
      open.push(adapter);
      expect(adapter.capabilities.batches, name).toBe(true);
      expect(adapter.capabilityNotes?.batches, name).toBeUndefined();
    }
  });
});

describe.each(["redis", "postgres"] as const)("sqs batches through the %s status store", (name) => {
  it("the settle of the last job sends the callback; the batch record says so", async () => {
    const { other: adapter } = await processes(name);
    const { batch, jobs } = await startBatch(adapter, 3);
    expect((await adapter.getBatches!({ ids: [batch.id] }))[0]).toMatchObject({ state: "running", total: 3, pending: 3 });
    expect((await runAll(adapter, "rows", 3)).sort()).toEqual(jobs.map((j) => j.id).sort());
    const callback = batch.callbacks.complete!;
    const [got] = await reserveSome(adapter, "callbacks", "the complete callback");
    expect(JSON.parse(got!.body)).toEqual(callback);
    expect((await adapter.getBatches!({ ids: [batch.id] }))[0]).toMatchObject({ state: "finished", succeeded: 3, pending: 0, enqueuedCallbacks: { complete: callback.id } });
    expect((await adapter.getStatus({ ids: [callback.id] }))[0]).toMatchObject({ state: "running" });
    // Sent and confirmed in the settle: nothing is left for an upkeep to send again.
    expect(await adapter.status.flow!.sweep({ claimTimeoutMs: 0, limit: 100 })).toEqual([]);
  });

  it("an operator's cancel of a batch's last job counts it discarded and sends the callback at once", async () => {
    // The first process: its claim timeout is 30 s, so a callback it sends now was not left to it.
    const { crashing: adapter } = await processes(name);
    const { batch, jobs } = await startBatch(adapter, 2);
    const [first] = await reserveSome(adapter, "rows", "a job of the batch", 1);
    await adapter.settle({ settlements: [{ reservation: first!, outcome: "succeeded" }] });
    const waiting = jobs.find((job) => job.id !== idOf(first!))!;
    expect(await adapter.changeJobs!({ action: "cancel", ids: [waiting.id] })).toEqual([waiting.id]);
    expect((await adapter.getBatches!({ ids: [batch.id] }))[0]).toMatchObject({ state: "finished", succeeded: 1, discarded: 1 });
    // Sent by the sweep the cancel ran (or an upkeep pass in flight), not left for the claim timeout.
    await waitFor(async () => (await messagesIn(adapter, "callbacks")) === 1, { message: "the callback sent after the cancel" });
    const [got] = await reserveSome(adapter, "callbacks", "the complete callback");
    expect(idOf(got!)).toBe(batch.callbacks.complete!.id);
  });

  it("a process killed between the store's decision and the send: another's upkeep sends the callback, once", async () => {
    const { crashing, other, lost } = await processes(name);
    const { batch } = await startBatch(crashing, 2);
    await runAll(crashing, "rows", 2);
    // The store decided (the batch finished, its callback recorded), the send never happened.
    const callback = batch.callbacks.complete!;
    expect(lost.map((p) => p.id)).toEqual([callback.id]);
    expect(await messagesIn(crashing, "callbacks")).toBe(0);
    expect((await other.getStatus({ ids: [callback.id] }))[0]).toMatchObject({ state: "queued" });
    // The other process's upkeep (run as it reserves) sends it once the claim timeout passed.
    const taken = await reserveSome(other, "callbacks", "the callback, sent by the other process's upkeep");
    expect(taken.map(idOf)).toEqual([callback.id]);
    await other.settle({ settlements: [{ reservation: taken[0]!, outcome: "succeeded" }] });
    // Confirmed: no upkeep sends it again, and SQS holds no other copy.
    expect(await other.status.flow!.sweep({ claimTimeoutMs: 0, limit: 100 })).toEqual([]);
    expect(await messagesIn(other, "callbacks")).toBe(0);
    expect((await other.getStatus({ ids: [callback.id] }))[0]).toMatchObject({ state: "succeeded", executions: 1 });
  });

  it("a process killed after the store counted its last job, before SQS deleted it: the job runs again, counted once; the callback is sent once", async () => {
    const { crashing, other } = await processes(name);
    const { batch, jobs } = await startBatch(crashing, 1);
    const [held] = await reserveSome(crashing, "rows", "the batch's job");
    // The settle's store step (a batch job's status is written before SQS settles it), then death:
    // its message is still there, and comes back (made visible now rather than at the lease's end).
    const { receipt } = held!.handle as { receipt: string };
    await crashing.status.settled([{ id: jobs[0]!.id, lease: receipt, settlement: { reservation: held!, outcome: "succeeded" } }]);
    const { url } = await other.queues.get("rows");
    await other.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: receipt, VisibilityTimeout: 0 }));
    const [again] = await reserveSome(other, "rows", "the job's message, back");
    await other.settle({ settlements: [{ reservation: again!, outcome: "succeeded" }] });
    expect((await other.getBatches!({ ids: [batch.id] }))[0]).toMatchObject({ state: "finished", total: 1, succeeded: 1, pending: 0 });
    // The callback the first step recorded: sent by the upkeep, once.
    const taken = await reserveSome(other, "callbacks", "the callback");
    expect(taken.map(idOf)).toEqual([batch.callbacks.complete!.id]);
    await other.settle({ settlements: [{ reservation: taken[0]!, outcome: "succeeded" }] });
    expect(await other.status.flow!.sweep({ claimTimeoutMs: 0, limit: 100 })).toEqual([]);
    expect(await messagesIn(other, "callbacks")).toBe(0);
  });

  it("a callback sent but never confirmed, then run: the upkeep confirms its pending send instead of sending it again", async () => {
    const { crashing, other, lost, where } = await processes(name);
    const { batch } = await startBatch(crashing, 1);
    await runAll(crashing, "rows", 1);
    const callback = batch.callbacks.complete!;
    // The crashed process's send reached SQS; its confirm never happened.
    const { url } = await crashing.queues.get("callbacks");
    await crashing.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: lost[0]!.body }));
    // Run by the first process, whose upkeep takes over no entry younger than its 30 s bound
    // (the other's would, after 300 ms: were the callback still queued then, it would rightly
    // send it again).
    const [got] = await reserveSome(crashing, "callbacks", "the callback's one copy", 1);
    await crashing.settle({ settlements: [{ reservation: got!, outcome: "succeeded" }] });
    // The other process's upkeep (run by its reserves, on another queue) takes the entry over.
    await waitFor(async () => (await reserve(other, "rows")).length === 0 && !(await pendingHeld(name, where, callback.id)), {
      message: "the upkeep to take the callback's pending send over",
    });
    // Confirmed, not sent: no second copy waits in the queue.
    expect(await messagesIn(other, "callbacks")).toBe(0);
  });

  it("a callback whose message SQS holds twice (sent, then the confirm lost) runs once: the late copy is deleted unrun", async () => {
    const { crashing, other, lost } = await processes(name);
    const { batch } = await startBatch(crashing, 1);
    await runAll(crashing, "rows", 1);
    const callback = batch.callbacks.complete!;
    // Both copies in the queue, as when a sweep resent an entry whose first send SQS had taken.
    const { url } = await other.queues.get("callbacks");
    for (let i = 0; i < 2; i++) await other.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: lost[0]!.body }));
    // One at a time here: two copies in one hand-out are the next case.
    const first = await reserveSome(other, "callbacks", "a copy of the callback", 1);
    expect(first.map(idOf)).toEqual([callback.id]);
    await other.settle({ settlements: [{ reservation: first[0]!, outcome: "succeeded" }] });
    // The other copy comes in, is void (its callback finished) and is deleted, never handed out.
    await waitFor(async () => (await reserve(other, "callbacks", 1)).length === 0 && (await messagesIn(other, "callbacks")) === 0, {
      timeoutMs: 15_000,
      message: "the second copy to be received and deleted",
    });
    expect((await other.getStatus({ ids: [callback.id] }))[0]).toMatchObject({ state: "succeeded", executions: 1 });
  });

  it("two copies of a callback received in one reserve: one is handed out, the other deleted", async () => {
    const { crashing, lost } = await processes(name);
    const { batch } = await startBatch(crashing, 1);
    await runAll(crashing, "rows", 1);
    const { url } = await crashing.queues.get("callbacks");
    for (let i = 0; i < 2; i++) await crashing.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: lost[0]!.body }));
    await waitFor(async () => (await messagesIn(crashing, "callbacks")) === 2, { message: "both copies in the queue" });
    // Reserve until both copies were received: one handed out, the other deleted unrun.
    const handed: Reservation[] = [];
    await waitFor(async () => {
      handed.push(...(await reserve(crashing, "callbacks")));
      return (await messagesIn(crashing, "callbacks")) === handed.length && handed.length > 0;
    }, { timeoutMs: 15_000, message: "the copies to be received" });
    expect(handed.map(idOf)).toEqual([batch.callbacks.complete!.id]);
  });
});
