// Core's in-memory store, the operator's side: what the conformance areas (list-jobs,
// control, control-workers) cannot reach portably — time a test cannot wait for (24 h of
// throughput, an hour-old mark or worker), the cursor's refusals, and the read-time state.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import type { JobPayload, WorkerInfo } from "../src/adapter/contract.js";
import { ConfigError } from "../src/errors.js";
import { MemoryControl } from "../src/memory/control.js";
import { listJobs } from "../src/memory/listing.js";
import { MemoryStore } from "../src/memory/store.js";
import { KEPT_MINUTES, minuteOf, Throughput } from "../src/memory/throughput.js";

function payload(overrides: Partial<JobPayload> = {}): JobPayload {
  const now = new Date().toISOString();
  return { v: 1, job: "Noop", id: randomUUID(), queue: "default", priority: 0, args: { json: [] }, executions: 0, enqueuedAt: now, runAt: now, ...overrides };
}

const MINUTE = 60_000;

function worker(id: string, running: WorkerInfo["running"] = []): WorkerInfo {
  return { id, host: "h", pid: 1, adapter: "test", queues: "*", concurrency: 1, startedAt: new Date(), running };
}

describe("Throughput", () => {
  it("adds beats of one minute up, reads oldest first, and forgets minutes older than 24 h", () => {
    const throughput = new Throughput();
    const now = 1_000 * KEPT_MINUTES * MINUTE;
    throughput.add(now, [{ queue: "q", succeeded: 2, failed: 1 }], now);
    throughput.add(now + 10, [{ queue: "q", succeeded: 3, failed: 0 }], now);
    throughput.add(now - 2 * MINUTE, [{ queue: "q", succeeded: 1, failed: 0 }], now);
    expect(throughput.read("q", 3, now)).toEqual({ since: new Date((minuteOf(now) - 2) * MINUTE), succeeded: [1, 0, 5], failed: [0, 0, 1] });
    // 24 h on, the first minute is the oldest kept (the one before it is gone); a day later
    // every minute of it is gone, and so is the queue.
    const dayLater = now + KEPT_MINUTES * MINUTE;
    expect(throughput.read("q", KEPT_MINUTES, dayLater - MINUTE).succeeded.filter((count) => count > 0)).toEqual([5]);
    expect(throughput.read("q", KEPT_MINUTES, dayLater - MINUTE).succeeded[0]).toBe(5);
    expect(throughput.read("q", KEPT_MINUTES, dayLater + MINUTE).succeeded.every((count) => count === 0)).toBe(true);
    expect([...throughput.names(dayLater + MINUTE)]).toEqual([]);
  });

  it("drops a beat from a clock a day behind, and counts of zero", () => {
    const throughput = new Throughput();
    const now = Date.now();
    throughput.add(now - KEPT_MINUTES * MINUTE, [{ queue: "late", succeeded: 1, failed: 0 }], now);
    throughput.add(now, [{ queue: "idle", succeeded: 0, failed: 0 }], now);
    expect([...throughput.names(now)]).toEqual([]);
  });
});

describe("MemoryControl", () => {
  it("keeps a mark's kind (an abort of the run wins), and drops it when the run settles, though the next run starts in the same millisecond", () => {
    const store = new MemoryStore();
    const control = new MemoryControl(store);
    const job = payload();
    store.add([job]);
    const now = Date.now();
    const [reservation] = store.take("*", 1, 60_000);
    const running = [{ id: job.id, job: "Noop", queue: "default", startedAt: new Date() }];
    const beat = () => control.heartbeat({ worker: worker("w", running), at: new Date(), ttlMs: 1000, finished: [] }, now);
    expect(control.changeJobs({ action: "interrupt", ids: [job.id] }, now)).toEqual([job.id]);
    expect(beat()).toMatchObject({ abort: [], interrupt: [job.id] });
    expect(control.changeJobs({ action: "abort", ids: [job.id] }, now)).toEqual([job.id]);
    expect(control.changeJobs({ action: "interrupt", ids: [job.id] }, now)).toEqual([job.id]);
    expect(beat()).toMatchObject({ abort: [job.id], interrupt: [] });
    control.settled(store.settle([{ reservation: reservation!, outcome: "released" }]));
    // Taken again at once, its start time may equal the last run's: the mark went with that run.
    store.take("*", 1, 60_000);
    expect(beat()).toMatchObject({ abort: [], interrupt: [] });
  });

  it("drops an abort mark an hour after it was made, and a gone worker an hour after its ttl ran out", () => {
    const store = new MemoryStore();
    const control = new MemoryControl(store);
    const job = payload();
    store.add([job]);
    store.take("*", 1, 7_200_000);
    expect(control.changeJobs({ action: "abort", ids: [job.id] })).toEqual([job.id]);
    const hourLater = Date.now() + 3_600_001;
    const running = [{ id: job.id, job: "Noop", queue: "default", startedAt: new Date() }];
    expect(control.heartbeat({ worker: worker("w", running), at: new Date(), ttlMs: 1000, finished: [] }).abort).toEqual([job.id]);
    expect(control.heartbeat({ worker: worker("w", running), at: new Date(hourLater - 3_600_000), ttlMs: 1000, finished: [] }, hourLater).abort).toEqual([]);
    expect(control.listWorkers(hourLater).map((record) => record.id)).toEqual(["w"]);
    expect(control.listWorkers(hourLater + 3_600_000 + 1001)).toEqual([]);
  });

  it("refuses an unknown action, a bad beat and bad queue names, naming what is wrong", () => {
    const control = new MemoryControl(new MemoryStore());
    expect(() => control.changeJobs({ action: "delete" as never, ids: [] })).toThrow(/action must be one of cancel, runNow, abort, interrupt, got "delete"/);
    expect(() => control.heartbeat({ worker: worker("w"), at: new Date(), ttlMs: 0, finished: [] })).toThrow(/ttlMs must be a positive number/);
    expect(() => control.heartbeat({ worker: worker("w"), at: new Date(), ttlMs: 1000, finished: [{ queue: "q", succeeded: -1, failed: 0 }] })).toThrow(/counts ≥ 0/);
    expect(() => control.pauseQueues({ queues: [""], paused: true })).toThrow(ConfigError);
  });
});

describe("listJobs (memory)", () => {
  it("refuses a cursor it did not make and one of another listing", () => {
    const store = new MemoryStore();
    store.add([payload(), payload(), payload()]);
    const page = listJobs(store, { state: "queued", limit: 1 });
    expect(page.next).toEqual(expect.any(String));
    expect(() => listJobs(store, { state: "queued", limit: 1, cursor: "not-a-cursor" })).toThrow(/is not one this adapter made/);
    expect(() => listJobs(store, { state: "scheduled", limit: 1, cursor: page.next! })).toThrow(/belongs to another listing/);
    expect(() => listJobs(store, { state: "queued", limit: 0 })).toThrow(/limit must be an integer from 1 to 500, got 0/);
    expect(() => listJobs(store, { state: "queued", limit: 1, sort: "id" } as never)).toThrow(/unknown option "sort"/);
  });

  it("reads a scheduled job whose time has come as queued, before any reserve promoted it", () => {
    const store = new MemoryStore();
    // An hour ahead: a loaded machine took more than 50 ms between the add and the read.
    const job = payload({ runAt: new Date(Date.now() + 3_600_000).toISOString() });
    store.add([job]);
    expect(store.statuses.get(job.id)?.state).toBe("scheduled");
    const later = Date.parse(job.runAt) + 1;
    expect(store.statuses.get(job.id, later)?.state).toBe("queued");
    expect(listJobs(store, { state: "queued", limit: 10 }, later).jobs.map((listed) => listed.id)).toEqual([job.id]);
    expect(listJobs(store, { state: "scheduled", limit: 10 }, later).jobs).toEqual([]);
  });
});
