// The in-memory adapters (async, test, inline) share one store, so the same scenario must
// end the same way on each: driven here, table-driven, through each adapter's interface.
// Inline runs a job as it is enqueued (its capability), so its jobs are stored through its
// store directly; everything after that goes through the adapter.
import { afterEach, describe, expect, it } from "vitest";

import { AsyncAdapter } from "@errand/adapter-async";
import { configure, type Runtime } from "@errand/core";
import { InlineAdapter, TestAdapter, type Adapter, type JobPayload } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { bodies, payload, reserve } from "./conformance/harness.js";

interface MemoryAdapter {
  name: string;
  create(): Promise<Adapter>;
  /** Stores jobs without running them. */
  store(adapter: Adapter, jobs: JobPayload[]): Promise<void>;
}

const runtimes: Runtime[] = [];
afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.close();
});

const ADAPTERS: MemoryAdapter[] = [
  {
    name: "async",
    create: async () => new AsyncAdapter(),
    store: async (adapter, jobs) => void (await adapter.enqueue({ jobs })),
  },
  {
    name: "test",
    create: async () => new TestAdapter(),
    store: async (adapter, jobs) => void (await adapter.enqueue({ jobs })),
  },
  {
    name: "inline",
    create: async () => {
      const runtime = configure({ adapter: "inline" });
      runtimes.push(runtime);
      return (await runtime.adapterFor()).adapter;
    },
    store: async (adapter, jobs) => void (adapter as InlineAdapter).store.add(jobs),
  },
];

const failure = { name: "Error", message: "boom" };

describe.each(ADAPTERS)("in-memory adapter $name", ({ create, store }) => {
  it("takes lower priorities first, oldest first within a priority, over every queue", async () => {
    const adapter = await create();
    const jobs = [
      payload({ queue: "a", priority: 5 }),
      payload({ queue: "b", priority: 0 }),
      payload({ queue: "a", priority: 0 }),
      payload({ queue: "b", priority: 5 }),
      payload({ queue: "a", priority: -1 }),
    ];
    await store(adapter, jobs);
    const order = [4, 1, 2, 0, 3].map((index) => jobs[index]!.id);
    expect(bodies(await reserve(adapter, { queues: "*", max: 10 })).map((job) => job.id)).toEqual(order);
    await adapter.close();
  });

  it("takes named queues in the order given, then by priority", async () => {
    const adapter = await create();
    const jobs = [payload({ queue: "a", priority: 0 }), payload({ queue: "b", priority: 9 }), payload({ queue: "b", priority: 1 })];
    await store(adapter, jobs);
    const taken = bodies(await reserve(adapter, { queues: ["b", "a"], max: 10 }));
    expect(taken.map((job) => job.id)).toEqual([jobs[2]!.id, jobs[1]!.id, jobs[0]!.id]);
    await adapter.close();
  });

  it("hands out a job again when its lease runs out: status queued in between, deliveries counted", async () => {
    const adapter = await create();
    const job = payload();
    await store(adapter, [job]);
    const [first] = await reserve(adapter, { leaseMs: 1 });
    expect(first?.deliveries).toBe(1);
    expect((await adapter.getStatus({ ids: [job.id] }))[0]?.state).toBe("running");
    // A reserve of another queue is what notices the expiry; the job is then back, not running.
    await waitFor(async () => {
      await reserve(adapter, { queues: ["elsewhere"] });
      return (await adapter.getStatus({ ids: [job.id] }))[0]?.state === "queued";
    }, { message: "the expired lease to put the job back" });
    const [second] = await reserve(adapter);
    expect(second?.deliveries).toBe(2);
    expect(await adapter.extendLease({ reservations: [first!], leaseMs: 30_000 })).toEqual([first!.providerJobId]);
    await adapter.settle({ settlements: [{ reservation: first!, outcome: "succeeded" }] });
    expect((await adapter.getStatus({ ids: [job.id] }))[0]).toMatchObject({ state: "running", executions: 1 });
    await adapter.settle({ settlements: [{ reservation: second!, outcome: "succeeded" }] });
    expect((await adapter.getStatus({ ids: [job.id] }))[0]).toMatchObject({ state: "succeeded", executions: 1 });
    await adapter.close();
  });

  it("keeps the dead set's order when core refuses to revive some of its jobs", async () => {
    const adapter = await create();
    const jobs = [payload(), payload(), payload()];
    await store(adapter, jobs);
    const taken = await reserve(adapter, { max: 3 });
    await adapter.settle({ settlements: taken.map((reservation) => ({ reservation, outcome: "dead" as const, error: failure })) });
    const ids = (dead: { id: string }[]) => dead.map((job) => job.id);
    expect(ids(await adapter.listDead({}))).toEqual([jobs[2]!.id, jobs[1]!.id, jobs[0]!.id]);
    const refused = await adapter.retryDead({ select: { ids: [jobs[0]!.id, jobs[2]!.id] }, revive: () => null });
    expect(refused).toBe(0);
    expect(ids(await adapter.listDead({}))).toEqual([jobs[2]!.id, jobs[1]!.id, jobs[0]!.id]);
    const revived = { ...jobs[1]!, executions: 0 };
    expect(await adapter.retryDead({ select: { all: true }, revive: (body) => (JSON.parse(body).id === revived.id ? { payload: revived, body: JSON.stringify(revived) } : null) })).toBe(1);
    expect(ids(await adapter.listDead({}))).toEqual([jobs[2]!.id, jobs[0]!.id]);
    expect((await adapter.getStatus({ ids: [revived.id] }))[0]?.state).toBe("queued");
    expect(ids(bodies(await reserve(adapter)))).toEqual([revived.id]);
    await adapter.close();
  });

  it("moves a retried job to the queue and priority its new payload names, counted as retrying until due", async () => {
    const adapter = await create();
    const job = payload({ queue: "a" });
    await store(adapter, [job]);
    const [reservation] = await reserve(adapter, { queues: ["a"] });
    const retried = { ...job, queue: "b", priority: 3, executions: 1, runAt: new Date(Date.now() + 60_000).toISOString() };
    await adapter.settle({ settlements: [{ reservation: reservation!, outcome: "retry", payload: retried, runAt: new Date(retried.runAt), error: failure }] });
    const queues = await adapter.listQueues({});
    expect(queues.find((info) => info.name === "b")).toMatchObject({ queued: 0, retrying: 1, running: 0 });
    expect(queues.find((info) => info.name === "a")?.running ?? 0).toBe(0);
    expect((await adapter.getStatus({ ids: [job.id] }))[0]).toMatchObject({ state: "retrying", queue: "b", priority: 3 });
    await adapter.close();
  });

  it("keeps at most 10,000 dead jobs, the oldest dropped", async () => {
    const adapter = await create();
    const jobs = Array.from({ length: 10_001 }, () => payload());
    await store(adapter, jobs);
    const taken = await reserve(adapter, { max: jobs.length });
    await adapter.settle({ settlements: taken.map((reservation) => ({ reservation, outcome: "dead" as const, error: failure })) });
    expect((await adapter.listQueues({})).find((info) => info.name === "default")?.dead).toBe(10_000);
    const [oldest] = await adapter.listDead({ offset: 9_999 });
    expect(oldest?.id).toBe(jobs[1]!.id);
    await adapter.close();
  });

  it("forgets the status of a purged dead job and keeps the others'", async () => {
    const adapter = await create();
    const [kept, purged] = [payload(), payload()];
    await store(adapter, [kept!, purged!]);
    const taken = await reserve(adapter, { max: 2 });
    await adapter.settle({ settlements: taken.map((reservation) => ({ reservation, outcome: "dead" as const, error: failure })) });
    expect(await adapter.purgeDead({ select: { ids: [purged!.id] } })).toBe(1);
    const [keptStatus, purgedStatus] = await adapter.getStatus({ ids: [kept!.id, purged!.id] });
    expect(keptStatus?.state).toBe("dead");
    expect(purgedStatus).toBeNull();
    await adapter.close();
  });
});
