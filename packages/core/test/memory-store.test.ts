// Core's in-memory store: the ways in that only the test and inline adapters use
// (takeWhere, put, clear), which the adapter-level table test does not reach.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import type { JobPayload } from "../src/adapter/contract.js";
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
