// Recurring ticks on SQS with a shared status store, across real `errand work` processes: the
// crash window SQS has and the other backends do not. Storing a tick there is two steps on two
// systems — the store claims the tick (the task's last tick, the job's status, the body kept as
// a pending send), then SendMessageBatch gives SQS the message. A process killed between the
// two leaves a tick the store has and SQS does not; every other process's enqueue of that tick
// is a duplicate. The tick still runs, once: after `claimTimeoutMs` another process's upkeep
// takes the pending send over and sends it.
//
// The victim is stopped inside that window for real: its SQS endpoint is a proxy that forwards
// every call but holds its SendMessageBatch (test/support/sqs-hold-proxy.ts). The test sees
// the held call (the tick's message), checks the store and the queue in that state, then
// kills the victim with SIGKILL; the held call is never forwarded. Two workers started after
// (with the fixture's short claim timeout) send it and go on ticking.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import type { SqsAdapter } from "@errand/adapter-sqs";
import type { Adapter, JobPayload } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";

import { recurringBackends, runsIn, storedTicks, TASK } from "./support/recurring-backends.js";
import { startHoldProxy, type HoldProxy } from "./support/sqs-hold-proxy.js";
import { WorkerProcess } from "./support/worker-process.js";

const TMP = mkdtempSync(join(tmpdir(), "errand-recurring-sqs-"));
const { sqsRedis, sqsPostgres } = recurringBackends();
const BACKENDS = [sqsRedis, sqsPostgres];
/**
 * The adapters' `claimTimeoutMs` here. 2 s: far above a send to the local emulator (tens of
 * ms even on a loaded machine), so a survivor's own send is never taken over and doubled; and
 * the survivors take ~1.5 s to start anyway, so a shorter bound would not end the case sooner.
 */
const CLAIM_TIMEOUT_MS = 2_000;

const adapters: Adapter[] = [];
const proxies: HoldProxy[] = [];
afterEach(async () => {
  WorkerProcess.killAll();
  for (const proxy of proxies.splice(0)) await proxy.close();
  for (const adapter of adapters.splice(0)) await adapter.close();
});
afterAll(async () => {
  for (const backend of BACKENDS) await backend.cleanup();
  rmSync(TMP, { recursive: true, force: true });
});

/** Messages SQS holds in the task's queue, visible, in flight or delayed. */
async function messagesIn(adapter: SqsAdapter): Promise<number> {
  const { url } = await adapter.queues.get("default");
  const { Attributes = {} } = await adapter.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible) + Number(Attributes.ApproximateNumberOfMessagesDelayed);
}

describe.each(BACKENDS)("recurring ticks on $name: the process that claimed a tick killed before SQS had it", (backend) => {
  it("another process's upkeep sends the claimed tick after claimTimeoutMs: it runs once, and the next ticks go on, each once", async () => {
    const { env, adapter } = backend.open();
    adapters.push(adapter);
    const sqs = adapter as SqsAdapter;
    const proxy = await startHoldProxy(env[backend.sqs!.endpointVar]!, "AmazonSQS.SendMessageBatch");
    proxies.push(proxy);
    const runs = join(TMP, `${backend.slug}.runs`);
    const workerEnv = { ...env, ERRAND_RECURRING_RUNS: runs, ERRAND_TEST_CLAIM_TIMEOUT_MS: String(CLAIM_TIMEOUT_MS) };
    const victim = new WorkerProcess(backend.config, 2, { ...workerEnv, [backend.sqs!.endpointVar]: proxy.endpoint });
    await victim.started();

    // The victim claims its first tick in the store, then waits in SendMessageBatch.
    const call = await waitFor(() => proxy.held[0], { timeoutMs: 10_000, message: `the victim's send of a tick\n${victim.tail()}` });
    const entries = (call.body as { Entries: { MessageBody: string }[] }).Entries;
    expect(entries, JSON.stringify(call.body)).toHaveLength(1);
    const claimed = JSON.parse(entries[0]!.MessageBody) as JobPayload;
    const tick = claimed.flow!.recurring!.tick;
    expect(claimed.flow!.recurring!.task).toBe(TASK);
    // The window: the store has the tick (the task's last tick; its job queued), SQS has no message.
    expect(await adapter.recurringState!({ tasks: [TASK] })).toEqual([{ task: TASK, lastTick: new Date(tick), jobId: claimed.id }]);
    expect((await adapter.getStatus({ ids: [claimed.id] }))[0], "the claimed tick's status").toMatchObject({ state: "queued", executions: 0 });
    expect(await messagesIn(sqs)).toBe(0);
    expect(storedTicks([victim]).size, "the victim logged no tick: its enqueue never returned").toBe(0);

    victim.child.kill("SIGKILL");
    expect((await victim.exit(5_000)).signal).toBe("SIGKILL");
    // Its send died with it, unforwarded: the tick is in the store only.
    expect(await messagesIn(sqs)).toBe(0);

    const survivors = [1, 2].map(() => new WorkerProcess(backend.config, 2, workerEnv));
    const tails = () => [victim, ...survivors].map((worker) => worker.tail()).join("\n");
    /** Waits for `done`; a timeout shows the workers' output as it is then. */
    const until = (done: () => boolean, timeoutMs: number, message: string) =>
      waitFor(done, { timeoutMs, message }).catch((error: Error) => {
        throw new Error(`${error.message}\n${tails()}`);
      });
    await until(() => runsIn(runs).includes(claimed.id), 15_000, "the claimed tick's run");
    await until(() => storedTicks(survivors).size >= 2, 10_000, "two ticks stored by the survivors");
    const later = [...storedTicks(survivors).values()].flat();
    await until(() => later.every((id) => runsIn(runs).includes(id)), 10_000, "the runs of the survivors' ticks");
    await Promise.all(survivors.map((worker) => worker.stop()));

    const ticks = storedTicks(survivors);
    const all = runsIn(runs);
    expect(all.filter((id) => id === claimed.id), `runs of the claimed tick's job ${claimed.id}\n${tails()}`).toHaveLength(1);
    for (const [at, ids] of ticks) {
      expect(ids, `tick ${at} stored ${ids.length} times\n${tails()}`).toHaveLength(1);
      expect(Date.parse(at), `tick ${at} is not after the claimed ${tick}`).toBeGreaterThan(Date.parse(tick));
    }
    const jobs = new Set([claimed.id, ...[...ticks.values()].flat()]);
    for (const id of all) expect(jobs.has(id), `a run of ${id}, no tick's job\n${tails()}`).toBe(true);
    for (const id of later) expect(all.filter((run) => run === id), `runs of ${id}\n${tails()}`).toHaveLength(1);
    const last = [...ticks.keys()].sort().at(-1)!;
    expect(await adapter.recurringState!({ tasks: [TASK] })).toEqual([{ task: TASK, lastTick: new Date(last), jobId: ticks.get(last)![0] }]);
  });
});
