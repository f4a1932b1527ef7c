// The order of the SQS adapter's status writes against its messages: a status never says a
// job runs while no worker holds it, and a revived dead job's status is written before its
// message goes out. Each case makes the troublesome moment happen for sure (a long poll left
// running by a stopped reserve, a status write held at the store) instead of hoping for it.
import type { ReceiveMessageCommandInput, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, describe, expect, it } from "vitest";

import { SqsAdapter } from "@errand/adapter-sqs";
import { LocalStatusStore, type JobPayload, type StatusLease } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { payload, reserve } from "./conformance/harness.js";
import { sqsEndpoint, sqsPrefix, testSqsClient } from "./support/sqs.js";

const endpoint = sqsEndpoint();
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of cleanup) await close();
});

/**
 * A real in-memory status store that notes which jobs were recorded as started, and can
 * hold the next `enqueued` write (before it lands) until the test lets it go.
 */
class WatchedStore extends LocalStatusStore {
  readonly startedIds: string[] = [];
  held: { release: () => void } | undefined;
  private holdNext = false;

  holdNextEnqueued(): void {
    this.holdNext = true;
  }

  override async enqueued(payloads: readonly JobPayload[]): Promise<void> {
    if (this.holdNext) {
      this.holdNext = false;
      await new Promise<void>((resolve) => (this.held = { release: resolve }));
    }
    await super.enqueued(payloads);
  }

  override async started(leases: readonly StatusLease[]): Promise<void> {
    this.startedIds.push(...leases.map((lease) => lease.id));
    await super.started(leases);
  }
}

/** An adapter on its own real client and queue prefix; `longPolls` counts receives that wait. */
function watchedAdapter(queuePrefix = sqsPrefix()) {
  const sqs: SQSClient = testSqsClient(endpoint);
  const longPolls: ReceiveMessageCommandInput[] = [];
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as ReceiveMessageCommandInput;
      if (context.commandName === "ReceiveMessageCommand" && (input.WaitTimeSeconds ?? 0) > 0) longPolls.push(input);
      return next(args);
    },
    { step: "initialize", name: "count-long-polls" },
  );
  const status = new WatchedStore();
  const adapter = new SqsAdapter({ client: sqs, queuePrefix, status });
  cleanup.push(async () => {
    await adapter.close();
    sqs.destroy();
  });
  return { adapter, status, longPolls, queuePrefix };
}

describe("sqs: status writes against messages", () => {
  it("messages a stopped reserve's long poll takes are handed back without being marked running", async () => {
    const { adapter, status, longPolls, queuePrefix } = watchedAdapter();
    const stop = new AbortController();
    const reserving = reserve(adapter, { waitMs: 5000, signal: stop.signal });
    await waitFor(() => longPolls.length > 0, { message: "the reserve to long-poll" });
    stop.abort();
    expect(await reserving).toEqual([]);

    // The job arrives while the stopped reserve's poll still waits: the poll takes it.
    const job = payload();
    await adapter.enqueue({ jobs: [job] });
    // close() waits for the poll and what it does with its messages.
    await adapter.close();

    // No worker ever held the job: its status never said running, and it still reads queued.
    expect(status.startedIds).not.toContain(job.id);
    expect((await status.get([job.id]))[0]).toMatchObject({ state: "queued", executions: 0 });
    // And the message is visible again at once, not after a visibility timeout.
    const other = watchedAdapter(queuePrefix);
    expect((await reserve(other.adapter)).map((r) => JSON.parse(r.body).id)).toEqual([job.id]);
  });

  it("a revived dead job's status is written before its message goes out", async () => {
    const { adapter, status } = watchedAdapter();
    const job = payload();
    await adapter.enqueue({ jobs: [job] });
    const [reservation] = await reserve(adapter, { max: 1 });
    await adapter.settle({ settlements: [{ reservation: reservation!, outcome: "dead", error: { name: "Error", message: "boom" }, payload: job }] });
    expect((await adapter.getStatus({ ids: [job.id] }))[0]?.state).toBe("dead");

    status.holdNextEnqueued();
    const revive = (body: string) => {
      const revived = { ...(JSON.parse(body) as JobPayload), executions: 0, runAt: new Date().toISOString() };
      return { payload: revived, body: JSON.stringify(revived) };
    };
    const retrying = adapter.retryDead({ select: { ids: [job.id] }, revive });
    await waitFor(() => status.held, { message: "the revived job's status write" });
    // Were the message out already, a worker could run the job and record it finished before
    // this write lands and turns it back into queued.
    expect(await reserve(adapter)).toEqual([]);
    status.held!.release();
    expect(await retrying).toBe(1);

    const [again] = await reserve(adapter, { max: 1 });
    expect(JSON.parse(again!.body).id).toBe(job.id);
    await adapter.settle({ settlements: [{ reservation: again!, outcome: "succeeded" }] });
    expect((await adapter.getStatus({ ids: [job.id] }))[0]).toMatchObject({ state: "succeeded", executions: 1 });
  });
});
