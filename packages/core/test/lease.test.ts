// The worker's lease renewer (src/worker/lease.ts) against the real test adapter: a renewal
// keeps held leases, a lost lease drops its buffered job and aborts its running one, a
// failed renewal is reported, and a stopped renewer makes no call. Leases are lost the way
// a backend loses them: they run out (1 ms leases) and another worker reserves the job.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { AdapterClient } from "../src/backends/client.js";
import type { ExtendLeaseOptions, JobPayload, Reservation } from "../src/adapter/contract.js";
import { TestAdapter } from "../src/backends/test-adapter.js";
import { AdapterClosedError } from "../src/errors.js";
import { TypedEmitter, type ErrandEvents } from "../src/events.js";
import { waitFor } from "../src/testing/wait-for.js";
import { LeaseLostError, LeaseRenewer } from "../src/worker/lease.js";
import { RunningJobs, type RunningJob } from "../src/worker/slots.js";

function payload(): JobPayload {
  const now = new Date().toISOString();
  return { v: 1, job: "LeaseJob", id: randomUUID(), queue: "default", priority: 0, args: { json: [] }, executions: 0, enqueuedAt: now, runAt: now };
}

/** A test adapter whose lease renewals wait for `open()`: a slow backend, on demand. */
class SlowRenewals extends TestAdapter {
  calls = 0;
  private gate: Promise<void> = Promise.resolve();
  open: () => void = () => undefined;
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  override async extendLease(options: ExtendLeaseOptions): Promise<string[]> {
    this.calls++;
    await this.gate;
    return super.extendLease(options);
  }
}

function fixture() {
  const adapter = new SlowRenewals();
  const events = new TypedEmitter<ErrandEvents>();
  const client = new AdapterClient(adapter, events);
  const reserve = (workerId: string, leaseMs: number) => client.reserve({ queues: "*", max: 10, leaseMs, waitMs: 0, workerId });
  return { adapter, events, client, reserve };
}

describe("LeaseRenewer", () => {
  it("extends held leases; a lost lease drops its buffered job and aborts its running job with LeaseLostError", async () => {
    const { client, reserve } = fixture();
    await client.enqueue([payload(), payload()]);
    const [lostBuffered, lostRunning] = await reserve("a", 1);
    // Both 1 ms leases run out and worker b takes the jobs: worker a's tokens are stale.
    const takenByB: Reservation[] = [];
    await waitFor(async () => takenByB.push(...(await reserve("b", 30_000))) === 2, { message: "worker b to take both jobs" });
    await client.enqueue([payload()]);
    // A 1 ms lease: without a renewal it runs out at once.
    const [kept] = await reserve("a", 1);
    const keptUntil = Date.now() + 1;

    const buffer: Reservation[] = [lostBuffered!, kept!];
    const runningJob: RunningJob = { reservation: lostRunning!, controller: undefined, abandoned: false, slot: -1, payload: undefined, startedAt: 0 };
    const running = runningOf(runningJob);
    const errors: unknown[] = [];
    const renewer = new LeaseRenewer({ client, leaseMs: 60_000, buffer, running, onError: (error) => errors.push(error) });
    await renewer.renew();

    expect(buffer).toEqual([kept]);
    expect(runningJob.abandoned).toBe(true);
    expect(runningJob.controller?.signal.reason).toBeInstanceOf(LeaseLostError);
    expect(errors).toEqual([runningJob.controller?.signal.reason]);
    expect((errors[0] as LeaseLostError).message).toBe(`the lease of job ${lostRunning!.providerJobId} was lost`);
    // Past the 1 ms lease: the renewal (to 60 s) keeps the job from any other worker.
    await waitFor(() => Date.now() > keptUntil + 5, { message: "the original lease to have run out" });
    expect(await reserve("c", 30_000)).toEqual([]);
  });

  it("skips abandoned jobs and makes no call when nothing is held", async () => {
    const { client, events, reserve } = fixture();
    const calls: number[] = [];
    events.on("adapter:call", (event) => {
      if (event.operation === "extendLease") calls.push(event.count);
    });
    const buffer: Reservation[] = [];
    const running = new RunningJobs();
    const renewer = new LeaseRenewer({ client, leaseMs: 60_000, buffer, running, onError: () => undefined });
    await renewer.renew();
    expect(calls).toEqual([]);
    await client.enqueue([payload(), payload()]);
    const [handedBack, live] = await reserve("a", 30_000);
    running.add({ reservation: handedBack!, controller: undefined, abandoned: true, slot: -1, payload: undefined, startedAt: 0 });
    running.add({ reservation: live!, controller: undefined, abandoned: false, slot: -1, payload: undefined, startedAt: 0 });
    await renewer.renew();
    expect(calls).toEqual([1]);
  });

  it("reports a failed renewal and, once stopped, makes no call and does not start again", async () => {
    const { client, events, reserve } = fixture();
    await client.enqueue([payload()]);
    const buffer = await reserve("a", 30_000);
    const errors: unknown[] = [];
    const renewer = new LeaseRenewer({ client, leaseMs: 60_000, buffer, running: new RunningJobs(), onError: (error) => errors.push(error) });
    await client.close();
    await renewer.renew();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(AdapterClosedError);

    let calls = 0;
    events.on("adapter:call", (event) => {
      if (event.operation === "extendLease") calls++;
    });
    renewer.start();
    renewer.stop();
    renewer.start();
    await renewer.renew();
    expect(calls).toBe(0);
    expect(buffer).toHaveLength(1);
  });

  it("acts only on the deliveries it sent: a job reserved again while the renewal was in flight keeps its new delivery", async () => {
    const { adapter, client, reserve } = fixture();
    await client.enqueue([payload()]);
    const [first] = await reserve("a", 1);
    const buffer: Reservation[] = [first!];
    const errors: unknown[] = [];
    const renewer = new LeaseRenewer({ client, leaseMs: 60_000, buffer, running: new RunningJobs(), onError: (error) => errors.push(error) });
    adapter.hold();
    const renewal = renewer.renew();
    // While the renewal waits, the 1 ms lease runs out and the same worker reserves the job
    // again: a new delivery with the same provider id, which the renewal never saw.
    const again: Reservation[] = [];
    await waitFor(async () => again.push(...(await reserve("a", 60_000))) === 1, { message: "the job reserved again" });
    expect(again[0]!.providerJobId).toBe(first!.providerJobId);
    buffer.splice(0, 1, again[0]!);
    adapter.open();
    await renewal;
    expect(buffer).toEqual([again[0]]);
    expect(errors).toEqual([]);
  });

  it("skips a tick while a renewal is in flight, and ignores an answer that lands after stop()", async () => {
    const { adapter, client, reserve } = fixture();
    await client.enqueue([payload()]);
    const [held] = await reserve("a", 1);
    const running = runningOf({ reservation: held!, controller: undefined, abandoned: false, slot: -1, payload: undefined, startedAt: 0 });
    const errors: unknown[] = [];
    const renewer = new LeaseRenewer({ client, leaseMs: 60_000, buffer: [], running, onError: (error) => errors.push(error) });
    adapter.hold();
    const renewal = renewer.renew();
    await renewer.renew(); // a second tick while the first waits: no second call
    expect(adapter.calls).toBe(1);
    // The lease runs out and another worker takes the job: the pending answer will say lost.
    await waitFor(async () => (await reserve("b", 60_000)).length === 1, { message: "worker b to take the job" });
    renewer.stop();
    adapter.open();
    await renewal;
    expect(running.values()[0]!.abandoned).toBe(false);
    expect(errors).toEqual([]);
  });
});

function runningOf(...jobs: RunningJob[]): RunningJobs {
  const running = new RunningJobs();
  for (const job of jobs) running.add(job);
  return running;
}
