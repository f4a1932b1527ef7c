// Worker behaviour that is the same on every backend: concurrency, events, startup and
// shutdown edges. Backend semantics live in the conformance suite.
import { afterEach, describe, expect, it } from "vitest";

import { configure, Job, performAllLater, Worker, type Runtime } from "@errand/core";
import { TestAdapter, waitFor } from "@errand/core/testing";

let running = 0;
let peak = 0;
const releases: (() => void)[] = [];
class HoldJob extends Job<[]> {
  async perform() {
    running++;
    peak = Math.max(peak, running);
    await new Promise<void>((resolve) => releases.push(resolve));
    running--;
  }
}
class QuickJob extends Job<[n: number]> {
  perform(n: number) {
    return n;
  }
}

let runtime: Runtime;
afterEach(async () => {
  releases.splice(0).forEach((release) => release());
  await runtime?.close({ graceMs: 1000 });
});

describe("Worker", () => {
  it("never runs more than `concurrency` jobs at once, and refills slots as jobs finish", async () => {
    runtime = configure({ adapter: new TestAdapter(), worker: { embedded: false, pollInterval: 20 } });
    running = peak = 0;
    await Promise.all(Array.from({ length: 9 }, () => HoldJob.performLater()));
    const worker = new Worker({ runtime, concurrency: 3, prefetch: 2 });
    await worker.start();
    await waitFor(() => running === 3 && worker.bufferedCount === 2, { message: "three running, two buffered" });
    for (let done = 0; done < 9; ) {
      await waitFor(() => releases.length > 0, { message: "a job waiting to be released" });
      releases.shift()!();
      done++;
    }
    await worker.drained();
    expect(peak).toBe(3);
    expect(worker.processed).toBe(9);
  });

  it("grows its buffer when jobs finish faster than a reserve returns, so reserves fetch many jobs", async () => {
    runtime = configure({ adapter: new TestAdapter(), worker: { embedded: false, pollInterval: 20 } });
    const sizes: number[] = [];
    runtime.events.on("adapter:call", (event) => {
      if (event.operation === "reserve") sizes.push(event.count);
    });
    await Promise.all(Array.from({ length: 1000 }, (_, i) => QuickJob.performLater(i)));
    const worker = new Worker({ runtime, concurrency: 1 });
    expect([worker.prefetch, worker.maxPrefetch]).toEqual([10, 200]);
    await worker.start();
    await worker.drained();
    expect(worker.processed).toBe(1000);
    // It started at 1 slot + 10 buffered, and grew past that (never past 1 + 200).
    expect(Math.max(...sizes)).toBeGreaterThan(11);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(201);
    expect(sizes.length).toBeLessThan(100);
    // A prefetch set by the app is kept as it is.
    expect(new Worker({ runtime, concurrency: 1, prefetch: 3 }).maxPrefetch).toBe(3);
  });

  it("grows its buffer up to the backend's maxPrefetch, not past it", async () => {
    class RoomyAdapter extends TestAdapter {
      override readonly capabilities = { ...new TestAdapter().capabilities, maxPrefetch: 400 };
    }
    runtime = configure({ adapter: new RoomyAdapter(), worker: { embedded: false, pollInterval: 20 } });
    const sizes: number[] = [];
    runtime.events.on("adapter:call", (event) => {
      if (event.operation === "reserve") sizes.push(event.count);
    });
    await performAllLater(Array.from({ length: 3000 }, (_, i) => new QuickJob(i)));
    const worker = new Worker({ runtime, concurrency: 1 });
    await worker.start();
    expect(worker.maxPrefetch).toBe(400);
    await worker.drained();
    expect(worker.processed).toBe(3000);
    // Past the default cap of 200, never past 1 slot + 400 buffered.
    expect(Math.max(...sizes)).toBeGreaterThan(201);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(401);
  });

  it("emits start, idle and stop events with its id", async () => {
    runtime = configure({ adapter: new TestAdapter(), worker: { embedded: false, pollInterval: 20 } });
    const seen: string[] = [];
    for (const event of ["worker:start", "worker:idle", "worker:stop", "job:start", "job:complete"] as const) {
      runtime.events.on(event, () => seen.push(event));
    }
    await QuickJob.performLater(1);
    const worker = new Worker({ runtime, queues: "default" });
    await worker.start();
    await worker.drained();
    await worker.stop();
    expect(seen.filter((event, index) => seen.indexOf(event) === index)).toEqual(["worker:start", "job:start", "job:complete", "worker:idle", "worker:stop"]);
  });

  it("a stop during start waits for the start, then stops cleanly", async () => {
    runtime = configure({ adapter: new TestAdapter(), worker: { embedded: false } });
    const worker = new Worker({ runtime });
    const started = worker.start();
    const stopped = worker.stop();
    await started;
    await stopped;
    expect(worker.state).toBe("stopped");
    await expect(worker.start()).rejects.toThrow(/was already started/);
  });

  it("bad settings are clear errors", () => {
    runtime = configure({ adapter: new TestAdapter(), worker: { embedded: false } });
    expect(() => new Worker({ runtime, concurrency: 0 })).toThrow('option "concurrency" in the worker options must be a positive integer, got 0');
    expect(() => new Worker({ runtime, lease: "10ms" })).toThrow("worker lease must be at least 1s, got 10 ms");
    expect(() => new Worker({ runtime, pollInterval: "soon" })).toThrow('option "pollInterval" in the worker options must be a duration');
  });

  it("a worker on weighted queues takes from every queue", async () => {
    runtime = configure({ adapter: new TestAdapter(), worker: { embedded: false, pollInterval: 20 } });
    const queues = new Map<string, number>();
    runtime.events.on("job:complete", (event) => queues.set(event.payload.queue, (queues.get(event.payload.queue) ?? 0) + 1));
    for (const queue of ["critical", "default", "low"]) {
      for (let i = 0; i < 5; i++) await QuickJob.set({ queue }).performLater(i);
    }
    const worker = new Worker({ runtime, queues: ["critical,5", "default,2", "low,1"], concurrency: 2 });
    await worker.start();
    await worker.drained();
    expect(Object.fromEntries(queues)).toEqual({ critical: 5, default: 5, low: 5 });
  });

  it("counts among the jobs handed back at stop those of a reserve that answered after the stop began", async () => {
    /** A TestAdapter whose reserves wait, while `gate` is set, for it to open (the answer already on its way back). */
    class LateAdapter extends TestAdapter {
      gate: Promise<void> | undefined;
      waiting = 0;
      override async reserve(options: Parameters<TestAdapter["reserve"]>[0]) {
        if (this.gate) {
          this.waiting++;
          await this.gate;
        }
        return super.reserve(options);
      }
    }
    const adapter = new LateAdapter();
    runtime = configure({ adapter, worker: { embedded: false, pollInterval: 20 } });
    let open!: () => void;
    adapter.gate = new Promise<void>((resolve) => (open = resolve));
    let released: number | undefined;
    runtime.events.on("worker:stop", (event) => (released = event.released));
    const ran: number[] = [];
    runtime.events.on("job:complete", (event) => ran.push((event.payload.args.json as number[])[0]!));
    await performAllLater([1, 2, 3].map((n) => new QuickJob(n)));
    const worker = new Worker({ runtime, concurrency: 2 });
    await worker.start();
    await waitFor(() => adapter.waiting > 0, { message: "a reserve in flight" });
    const stopped = worker.stop();
    await waitFor(() => worker.state === "stopping", { message: "the worker stopping" });
    adapter.gate = undefined;
    open();
    await stopped;
    expect(ran).toEqual([]);
    expect(released).toBe(3);
    // Handed back, not lost: another worker runs all three.
    const second = new Worker({ runtime, concurrency: 2, pollInterval: 20 });
    await second.start();
    await waitFor(() => ran.length === 3, { message: "the three jobs to run on the second worker" });
    await second.stop();
    expect(ran.sort()).toEqual([1, 2, 3]);
  });
});
