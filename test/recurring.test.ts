// Recurring tasks in one process, on the async adapter (its in-memory store keeps one job
// per task and tick): two workers' schedulers enqueue every tick and exactly one job per
// tick is stored and run; the "latest" and "skip" missed policies; a task removed from the
// config stops; an enqueue that fails is reported and tried again. Real timers, `every: "1s"`;
// every wait is a condition with a deadline.
import { AsyncAdapter } from "@errand/adapter-async";
import { configure, Job, RecurringTickError, Worker, type ErrandConfig, type Runtime } from "@errand/core";
import type { EnqueueOptions, EnqueueResult } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";
import { afterEach, describe, expect, it } from "vitest";

/** Job ids of every run, in order. */
const runs: string[] = [];

class TickJob extends Job<[label: string]> {
  static override jobName = "RecurringTickJob";
  async perform(_label: string) {
    runs.push(this.jobId);
  }
}

class HourlyJob extends Job {
  static override jobName = "RecurringHourlyJob";
  async perform() {
    runs.push(this.jobId);
  }
}

const runtimes: Runtime[] = [];
const workers: Worker[] = [];
afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.stop({ graceMs: 0 });
  for (const runtime of runtimes.splice(0)) await runtime.close({ graceMs: 0 });
  runs.length = 0;
});

interface Tick {
  task: string;
  tick: number;
  jobId: string;
  duplicate: boolean;
  workerId: string;
}

/** A runtime on `adapter` with `recurring`, its ticks recorded; no embedded pool (the test starts workers). */
function setup(adapter: AsyncAdapter, recurring: ErrandConfig["recurring"]): { runtime: Runtime; ticks: Tick[]; errors: unknown[] } {
  const runtime = configure({ adapter, recurring, worker: { embedded: false, pollInterval: "50ms" } });
  runtimes.push(runtime);
  const ticks: Tick[] = [];
  const errors: unknown[] = [];
  runtime.events.on("recurring:tick", (event) => ticks.push({ ...event, tick: event.tick.getTime() }));
  runtime.events.on("worker:error", ({ error }) => errors.push(error));
  return { runtime, ticks, errors };
}

async function startWorker(runtime: Runtime, id: string): Promise<Worker> {
  const worker = new Worker({ runtime, workerId: id, keepAlive: false });
  workers.push(worker);
  await worker.start();
  return worker;
}

/** Stored (not duplicate) ticks of `task`, in order. */
const stored = (ticks: Tick[], task: string) => ticks.filter((tick) => tick.task === task && !tick.duplicate);

describe("recurring tasks on the async adapter", () => {
  it("two workers enqueue every tick; over N ticks exactly N jobs are stored and run", async () => {
    const N = 5;
    const adapter = new AsyncAdapter();
    const { runtime, ticks, errors } = setup(adapter, { heartbeat: { job: TickJob, every: "1s", args: ["beat"] } });
    await startWorker(runtime, "w1");
    await startWorker(runtime, "w2");
    await waitFor(() => stored(ticks, "heartbeat").length >= N, { timeoutMs: N * 1000 + 5000, message: `${N} stored ticks` });
    for (const worker of workers.splice(0)) await worker.stop();

    const mine = stored(ticks, "heartbeat");
    const tickTimes = mine.map((tick) => tick.tick);
    // One stored job per tick: no tick stored twice, each with its own job.
    expect(new Set(tickTimes).size).toBe(mine.length);
    expect(new Set(mine.map((tick) => tick.jobId)).size).toBe(mine.length);
    // Whole seconds, consecutive: a stall of the event loop under a minute is caught up tick by tick.
    tickTimes.forEach((time, index) => {
      expect(time % 1000).toBe(0);
      if (index > 0) expect(time).toBe(tickTimes[index - 1]! + 1000);
    });
    // Each worker enqueued each tick it saw; the other's enqueue of it was a duplicate naming the stored job.
    const duplicates = ticks.filter((t) => t.duplicate);
    expect(duplicates.length).toBeGreaterThanOrEqual(N - 1);
    for (const tick of duplicates) {
      expect(mine.find((stored) => stored.tick === tick.tick)?.jobId).toBe(tick.jobId);
    }
    // Every stored job ran, once; nothing else ran.
    expect([...runs].sort()).toEqual(mine.map((tick) => tick.jobId).sort());
    const [state] = await adapter.recurringState({ tasks: ["heartbeat"] });
    expect(state).toEqual({ task: "heartbeat", lastTick: new Date(tickTimes.at(-1)!), jobId: mine.at(-1)!.jobId });
    expect(errors).toEqual([]);
  });

  it('missed "latest" fires the latest tick before the start once; "skip" does not', async () => {
    const adapter = new AsyncAdapter();
    const recurring: ErrandConfig["recurring"] = {
      "hourly-latest": { job: HourlyJob, every: "1h", missed: "latest" },
      "hourly-skip": { job: HourlyJob, every: "1h" },
      heartbeat: { job: TickJob, every: "1s", args: ["beat"] },
    };
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const first = setup(adapter, recurring);
    await startWorker(first.runtime, "first");
    await waitFor(() => stored(first.ticks, "hourly-latest").length === 1, { message: "the latest tick" });
    const [latest] = stored(first.ticks, "hourly-latest");
    // The hour may have turned between `hour` and the worker's start.
    expect([hour, hour + 3_600_000]).toContain(latest!.tick);
    // Two heartbeats later the first check is long done: "skip" fired nothing.
    await waitFor(() => stored(first.ticks, "heartbeat").length >= 2, { timeoutMs: 5000, message: "two heartbeats" });
    expect(first.ticks.filter((tick) => tick.task === "hourly-skip")).toEqual([]);
    await workers.pop()!.stop();

    // A worker starting later on the same backend: the backend has that tick, so no second job.
    const second = setup(adapter, recurring);
    await startWorker(second.runtime, "second");
    await waitFor(() => second.ticks.some((tick) => tick.task === "hourly-latest"), { message: "the second worker's try" });
    expect(second.ticks.filter((tick) => tick.task === "hourly-latest")).toEqual([
      { task: "hourly-latest", tick: latest!.tick, jobId: latest!.jobId, duplicate: true, workerId: "second" },
    ]);
    const [state] = await adapter.recurringState({ tasks: ["hourly-latest"] });
    expect(state?.jobId).toBe(latest!.jobId);
    expect(runs.filter((id) => id === latest!.jobId)).toHaveLength(1);
  });

  it("a task removed from the config stops: workers started without it never enqueue it", async () => {
    const adapter = new AsyncAdapter();
    const before = setup(adapter, {
      kept: { job: TickJob, every: "1s", args: ["kept"] },
      removed: { job: TickJob, every: "1s", args: ["removed"] },
    });
    await startWorker(before.runtime, "before");
    await waitFor(() => stored(before.ticks, "removed").length >= 1 && stored(before.ticks, "kept").length >= 1, { timeoutMs: 5000, message: "both tasks" });
    await workers.pop()!.stop();
    const [removedState] = await adapter.recurringState({ tasks: ["removed"] });

    const after = setup(adapter, { kept: { job: TickJob, every: "1s", args: ["kept"] } });
    await startWorker(after.runtime, "after");
    await waitFor(() => stored(after.ticks, "kept").length >= 2, { timeoutMs: 5000, message: "two ticks of the kept task" });
    expect(after.ticks.filter((tick) => tick.task === "removed")).toEqual([]);
    expect(await adapter.recurringState({ tasks: ["removed"] })).toEqual([removedState]);
  });

  it("a worker on an adapter without capability recurring refuses to start, unless recurring: false", async () => {
    class NoRecurring extends AsyncAdapter {
      override readonly capabilities = { ...new AsyncAdapter().capabilities, recurring: false };
    }
    const { runtime } = setup(new NoRecurring(), { heartbeat: { job: TickJob, every: "1s", args: ["beat"] } });
    await expect(startWorker(runtime, "refused")).rejects.toThrow(
      "the async adapter cannot run recurring tasks (capability recurring), and the config has 1: heartbeat; use an adapter that can (async, redis, postgres, or sqs with a shared status store), or start this worker with recurring: false (errand work --no-recurring)",
    );
    const worker = new Worker({ runtime, workerId: "plain", keepAlive: false, recurring: false });
    workers.push(worker);
    await worker.start();
    expect(worker.state).toBe("running");
    expect(worker.recurringTasks).toEqual([]);
  });

  it("an enqueue that fails is reported and tried again; the worker keeps going", async () => {
    let down = true;
    class FlakyAdapter extends AsyncAdapter {
      override async enqueue(options: EnqueueOptions): Promise<EnqueueResult[]> {
        if (down && options.jobs.some((job) => job.flow?.recurring)) throw new Error("backend down");
        return super.enqueue(options);
      }
    }
    const adapter = new FlakyAdapter();
    const { runtime, ticks, errors } = setup(adapter, { heartbeat: { job: TickJob, every: "1s", args: ["beat"] } });
    await startWorker(runtime, "flaky");
    await waitFor(() => errors.length >= 2, { timeoutMs: 10_000, message: "two reported failures" });
    expect(errors[0]).toBeInstanceOf(RecurringTickError);
    expect((errors[0] as Error).message).toMatch(
      /^recurring task "heartbeat": tick \S+Z was not enqueued \(tried again while it is the latest due tick\): .*backend down/,
    );
    expect(ticks).toEqual([]);
    down = false;
    await waitFor(() => runs.length >= 1, { timeoutMs: 10_000, message: "a tick after the backend came back" });
    expect(stored(ticks, "heartbeat").length).toBeGreaterThanOrEqual(1);
    expect(workers[0]!.state).toBe("running");
  });
});
