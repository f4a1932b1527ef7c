// The operator's contract on SQS, where it differs from the other backends (the portable
// cases are the conformance suite's): a cancelled delayed message is deleted unrun when it
// comes, run now sends a copy due now and the delayed copy is dropped when it comes (standard
// queues) or is refused (FIFO retries), the dead set is the dead-letter queue while dead
// statuses go with the store's retention, and on LocalStatusStore both capabilities stay off
// with the reason. Internal: it looks at the SQS queue's message counts.
import { randomUUID } from "node:crypto";

import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, describe, expect, it } from "vitest";

import { RedisStatusStore } from "@errand/adapter-redis";
import { SqsAdapter } from "@errand/adapter-sqs";
import { UnsupportedError, type JobPayload, type Reservation } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";
import { sqsEndpoint, sqsPrefix, TEST_SQS_CONFIG } from "./support/sqs.js";

const endpoint = sqsEndpoint();
const redis = redisUrl();
const prefixes: string[] = [];
const open: SqsAdapter[] = [];
afterEach(() => Promise.all(open.splice(0).map((adapter) => adapter.close())));
afterAll(() => dropPrefixes(redis, prefixes.map((prefix) => `{${prefix}}`)));

function adapter(options: { fifo?: boolean; finishedTtlMs?: number } = {}): SqsAdapter {
  const prefix = redisPrefix("errand-sqs-control-t");
  prefixes.push(prefix);
  const status = new RedisStatusStore({ url: redis, prefix, ...(options.finishedTtlMs ? { finishedTtlMs: options.finishedTtlMs } : {}) });
  const made = new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix: sqsPrefix(), fifo: options.fifo ?? false, status });
  open.push(made);
  return made;
}

function payload(inMs = 0): JobPayload {
  const now = Date.now();
  return { v: 1, job: "ControlJob", id: randomUUID(), queue: "default", priority: 0, args: { json: [] }, executions: 0, enqueuedAt: new Date(now).toISOString(), runAt: new Date(now + inMs).toISOString() };
}

const reserve = (sqs: SqsAdapter, waitMs = 0) => sqs.reserve({ queues: ["default"], max: 10, leaseMs: 30_000, waitMs, workerId: "w" });
const idOf = (r: Reservation) => (JSON.parse(r.body) as JobPayload).id;

/** Every message the queue holds: visible, delayed, in flight. */
async function messagesIn(sqs: SqsAdapter): Promise<number> {
  const { url } = await sqs.queues.get("default");
  const { Attributes = {} } = await sqs.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible"] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesDelayed) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

/** Reserves until the queue holds no message, collecting what was handed out. */
async function drain(sqs: SqsAdapter, message: string): Promise<Reservation[]> {
  const taken: Reservation[] = [];
  await waitFor(
    async () => {
      taken.push(...(await reserve(sqs)));
      return (await messagesIn(sqs)) === taken.length;
    },
    { timeoutMs: 15_000, intervalMs: 100, message },
  );
  return taken;
}

describe("sqs + redis status store: the operator's contract", () => {
  it("cancel of a delayed message: its status is failed at once, and the message is deleted unrun when it comes", async () => {
    const sqs = adapter();
    const [delayed, other] = [payload(1500), payload()];
    await sqs.enqueue({ jobs: [delayed, other] });
    expect(await sqs.changeJobs!({ action: "cancel", ids: [delayed.id] })).toEqual([delayed.id]);
    expect((await sqs.getStatus({ ids: [delayed.id] }))[0]).toMatchObject({ state: "failed", error: { code: "ERR_JOB_CANCELLED" } });
    // SQS still holds it, delayed; the counts are the statuses', so it is no longer scheduled.
    expect(await messagesIn(sqs)).toBe(2);
    expect((await sqs.listQueues({})).find((info) => info.name === "default")).toMatchObject({ queued: 1, scheduled: 0, failed: 1 });
    const taken = await drain(sqs, "the delayed message to come and go");
    expect(taken.map(idOf)).toEqual([other.id]);
    expect(await messagesIn(sqs)).toBe(1); // the other one, handed out
    expect((await sqs.getStatus({ ids: [delayed.id] }))[0]?.state).toBe("failed");
  });

  it("run now on a standard queue: a copy due now runs; the delayed copy is dropped when it comes", async () => {
    const sqs = adapter();
    const job = payload(2000);
    await sqs.enqueue({ jobs: [job] });
    expect(await reserve(sqs)).toEqual([]);
    expect(await sqs.changeJobs!({ action: "runNow", ids: [job.id, job.id] })).toEqual([job.id]);
    const [copy] = await waitFor(async () => {
      const got = await reserve(sqs);
      return got.length > 0 ? got : undefined;
    }, { timeoutMs: 5000, message: "the copy due now" });
    expect(idOf(copy!)).toBe(job.id);
    expect(Date.parse((JSON.parse(copy!.body) as JobPayload).runAt)).toBeLessThan(Date.parse(job.runAt));
    await sqs.settle({ settlements: [{ reservation: copy!, outcome: "succeeded" }] });
    // The delayed copy comes 2 s after the enqueue, is voided and deleted: nothing runs again.
    await waitFor(() => Date.now() > Date.parse(job.runAt) + 500, { timeoutMs: 5000, message: "the delayed copy's time" });
    expect(await drain(sqs, "the delayed copy to come and go")).toEqual([]);
    expect(await messagesIn(sqs)).toBe(0);
    expect((await sqs.getStatus({ ids: [job.id] }))[0]).toMatchObject({ state: "succeeded", executions: 1 });
  });

  it("run now on FIFO queues: refused for a retrying job (its hidden message keeps its group in order), nothing for the others", async () => {
    const sqs = adapter({ fifo: true });
    const [job, queued] = [payload(), payload()];
    await sqs.enqueue({ jobs: [job] });
    const [reservation] = await waitFor(async () => {
      const got = await reserve(sqs);
      return got.length > 0 ? got : undefined;
    }, { timeoutMs: 5000, message: "the job to be reserved" });
    const retried = { ...job, executions: 1, runAt: new Date(Date.now() + 60_000).toISOString() };
    await sqs.settle({ settlements: [{ reservation: reservation!, outcome: "retry", payload: retried, runAt: new Date(retried.runAt), error: { name: "Error", message: "again" } }] });
    await sqs.enqueue({ jobs: [queued] });
    const refusal = sqs.changeJobs!({ action: "runNow", ids: [queued.id, job.id] });
    await expect(refusal).rejects.toThrow(UnsupportedError);
    await expect(sqs.changeJobs!({ action: "runNow", ids: [job.id] })).rejects.toThrow(new RegExp(`runNow is refused on FIFO queues: ControlJob ${job.id} waits out a retry's backoff`));
    expect(await sqs.changeJobs!({ action: "runNow", ids: [queued.id] })).toEqual([]);
    // Cancel works there as anywhere.
    expect(await sqs.changeJobs!({ action: "cancel", ids: [job.id] })).toEqual([job.id]);
  });

  it("the dead set is the dead-letter queue (14 days), and dead statuses are kept as long: the listing and listQueues' dead agree past finishedTtlMs", async () => {
    const sqs = adapter({ finishedTtlMs: 1500 });
    const [job, ok] = [payload(), payload()];
    await sqs.enqueue({ jobs: [job, ok] });
    const got: Reservation[] = [];
    await waitFor(async () => {
      got.push(...(await reserve(sqs)));
      return got.length >= 2;
    }, { timeoutMs: 5000, message: "both jobs to be reserved" });
    const of = (id: string) => got.find((r) => idOf(r) === id)!;
    await sqs.settle({
      settlements: [
        { reservation: of(job.id), outcome: "dead", error: { name: "Error", message: "fatal" }, payload: job },
        { reservation: of(ok.id), outcome: "succeeded" },
      ],
    });
    const listedDead = async () => (await sqs.listJobs!({ state: "dead", limit: 10 })).jobs.map((listed) => listed.id);
    const counts = async () => (await sqs.listQueues({})).find((info) => info.name === "default");
    expect(await listedDead()).toEqual([job.id]);
    expect((await sqs.listDead({})).map((dead) => dead.id)).toEqual([job.id]);
    // finishedTtlMs (1.5 s) passes: the succeeded status goes, the dead one stays (deadTtlMs, 14 days).
    await waitFor(async () => (await sqs.listJobs!({ state: "succeeded", limit: 10 })).jobs.length === 0, { timeoutMs: 10_000, message: "the succeeded status to expire" });
    expect(await listedDead()).toEqual([job.id]);
    expect(await counts()).toMatchObject({ succeeded: 0, dead: 1 });
    // Moved back from the dead-letter queue, it follows its new state: out of both dead views.
    expect(await sqs.retryDead({ select: { ids: [job.id] }, revive: (body) => ({ payload: JSON.parse(body) as JobPayload, body }) })).toBe(1);
    expect((await sqs.getStatus({ ids: [job.id] }))[0]?.state).toBe("queued");
    expect(await listedDead()).toEqual([]);
    await waitFor(async () => (await counts())?.dead === 0, { timeoutMs: 5000, message: "the dead-letter queue's count to drop" });
  });
});

describe("sqs on LocalStatusStore", () => {
  it("has neither listJobs nor control, and says why and what turns them on", () => {
    const sqs = new SqsAdapter({ endpoint, clientConfig: TEST_SQS_CONFIG, queuePrefix: sqsPrefix() });
    open.push(sqs);
    expect(sqs.capabilities).toMatchObject({ listJobs: false, control: false });
    expect(sqs.listJobs).toBeUndefined();
    expect(sqs.capabilityNotes?.listJobs).toMatch(/SQS can neither list.*RedisStatusStore.*PostgresStatusStore.*LocalStatusStore keeps statuses in this process only/);
    expect(sqs.capabilityNotes?.control).toBe(sqs.capabilityNotes?.listJobs);
  });
});
