// Core's in-memory store: the ways in that only the test and inline adapters use
// (takeWhere, put, clear), which the adapter-level table test does not reach.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import type { JobPayload } from "../src/adapter/contract.js";
import { ReadyQueue } from "../src/memory/ready.js";
import { MemoryStore } from "../src/memory/store.js";

function payload(overrides: Partial<JobPayload> = {}): JobPayload {
  const now = new Date().toISOString();
  return { v: 1, job: "Noop", id: randomUUID(), queue: "default", priority: 0, args: { json: [] }, executions: 0, enqueuedAt: now, runAt: now, ...overrides };
}

const later = (ms: number) => new Date(Date.now() + ms).toISOString();
const ids = (bodies: { body: string }[]) => bodies.map((reservation) => (JSON.parse(reservation.body) as JobPayload).id);

describe("MemoryStore", () => {
  it("takeWhere takes scheduled jobs too, in run-time order, and only those the filter accepts", () => {
    const store = new MemoryStore();
    const [soon, now, other, latest] = [payload({ runAt: later(60_000) }), payload(), payload({ job: "Other" }), payload({ runAt: later(120_000) })];
    store.add([latest!, soon!, now!, other!]);
    const taken = store.takeWhere((job) => job.job === "Noop", { leaseMs: 60_000, includeScheduled: true });
    expect(ids(taken)).toEqual([now!.id, soon!.id, latest!.id]);
    // Taken out of the ready FIFO and the scheduled heap: nothing is handed out twice.
    expect(ids(store.take("*", 10, 60_000))).toEqual([other!.id]);
    expect(store.queues()).toEqual([{ name: "default", queued: 0, scheduled: 0, running: 4, retrying: 0, dead: 0 }]);
  });

  it("takeWhere without includeScheduled leaves jobs not yet due, and honours max", () => {
    const store = new MemoryStore();
    const [a, b, scheduled] = [payload(), payload(), payload({ runAt: later(60_000) })];
    store.add([a!, b!, scheduled!]);
    expect(ids(store.takeWhere(() => true, { leaseMs: 60_000, max: 1 }))).toEqual([a!.id]);
    expect(ids(store.takeWhere(() => true, { leaseMs: 60_000 }))).toEqual([b!.id]);
    expect(store.statuses.get(scheduled!.id)?.state).toBe("scheduled");
  });

  it("put stores the body exactly as given", () => {
    const store = new MemoryStore();
    store.put(payload(), "not json {");
    expect(store.take(["default"], 1, 60_000).map((reservation) => reservation.body)).toEqual(["not json {"]);
  });

  it("clear forgets ready, scheduled, leased and dead jobs", () => {
    const store = new MemoryStore();
    store.add([payload(), payload(), payload({ runAt: later(60_000) })]);
    const [leased, dying] = store.take(["default"], 2, 60_000);
    store.settle([{ reservation: dying!, outcome: "dead", error: { name: "Error", message: "x" } }]);
    store.clear();
    expect(store.queues()).toEqual([]);
    expect(store.extend([leased!], 60_000)).toEqual([leased!.providerJobId]);
  });
});

describe("ReadyQueue", () => {
  it("drops a priority's bucket once it empties: 10,000 distinct priorities taken leave none", () => {
    const queue = new ReadyQueue<{ priority: number; n: number }>();
    // Priorities computed per job, pushed out of order, two jobs on one of them.
    const priorities = Array.from({ length: 10_000 }, (_, n) => (n * 7919) % 10_000);
    priorities.forEach((priority, n) => queue.push({ priority, n }));
    queue.push({ priority: 5, n: -1 });
    expect(queue.priorityCount).toBe(10_000);
    const taken: { priority: number; n: number }[] = [];
    for (let item = queue.shift(); item; item = queue.shift()) taken.push(item);
    expect(taken).toHaveLength(10_001);
    // Lower priority first, first in first out within one.
    expect(taken.map((item) => item.priority)).toEqual([...priorities, 5].sort((a, b) => a - b));
    expect(taken.filter((item) => item.priority === 5).map((item) => item.n)).toEqual([priorities.indexOf(5), -1]);
    expect(queue.priorityCount).toBe(0);
    expect(queue.size).toBe(0);
  });

  it("drops buckets that remove() empties, and keeps order for the rest", () => {
    const queue = new ReadyQueue<{ priority: number; n: number }>();
    const items = [3, 1, 2, 1, 3].map((priority, n) => ({ priority, n }));
    for (const item of items) queue.push(item);
    queue.remove(new Set([items[0]!, items[2]!, items[4]!]));
    expect(queue.priorityCount).toBe(1);
    expect([...queue].map((item) => item.n)).toEqual([1, 3]);
    queue.push({ priority: 0, n: 5 });
    expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()].map((item) => item?.n)).toEqual([5, 1, 3, undefined]);
    expect(queue.priorityCount).toBe(0);
  });
});
