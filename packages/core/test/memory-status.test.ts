// Retention of in-memory statuses: memory must not grow with the number of jobs run.
import { describe, expect, it } from "vitest";

import type { JobPayload, Reservation } from "../src/adapter/contract.js";
import { LOCAL_MAX_LIVE, LocalStatusStore } from "../src/memory/local-status.js";
import { MemoryStatusStore } from "../src/memory/status.js";

const payload = (id: string, runAt = new Date()): JobPayload => ({
  v: 1,
  job: "J",
  id,
  queue: "q",
  priority: 0,
  args: { json: [] },
  executions: 0,
  enqueuedAt: new Date().toISOString(),
  runAt: runAt.toISOString(),
});
const reservation: Reservation = { providerJobId: "p", body: "{}" };

function runToEnd(store: MemoryStatusStore, id: string, at: number) {
  store.enqueued(payload(id), at);
  store.started(id, at);
  store.settled(id, { reservation, outcome: "succeeded", result: '{"json":1}' }, at);
}

describe("MemoryStatusStore", () => {
  it("keeps at most maxFinished finished statuses, dropping the oldest", () => {
    const store = new MemoryStatusStore({ maxFinished: 3 });
    for (let i = 0; i < 10; i++) runToEnd(store, `job-${i}`, Date.now());
    expect(store.size).toBe(3);
    expect(store.get("job-6")).toBeNull();
    expect(store.get("job-9")).toMatchObject({ state: "succeeded", executions: 1, result: '{"json":1}' });
  });

  it("never drops live jobs, however many", () => {
    const store = new MemoryStatusStore({ maxFinished: 1 });
    for (let i = 0; i < 5; i++) store.enqueued(payload(`live-${i}`));
    runToEnd(store, "done-1", Date.now());
    runToEnd(store, "done-2", Date.now());
    expect(store.size).toBe(6);
    for (let i = 0; i < 5; i++) expect(store.get(`live-${i}`)?.state).toBe("queued");
  });

  it("forgets finished statuses older than finishedTtlMs", () => {
    const store = new MemoryStatusStore({ finishedTtlMs: 1000 });
    runToEnd(store, "old", Date.now() - 5000);
    expect(store.get("old")).toBeNull();
    runToEnd(store, "new", Date.now());
    expect(store.size).toBe(1);
  });

  it("keeps dead statuses deadTtlMs, in a lane of their own: an old dead one holds back no succeeded one", () => {
    const store = new MemoryStatusStore({ finishedTtlMs: 1000, deadTtlMs: 10_000, maxFinished: 3 });
    const now = Date.now();
    const bury = (id: string, at: number) => {
      store.enqueued(payload(id), at);
      store.started(id, at);
      store.settled(id, { reservation, outcome: "dead", error: { name: "E", message: "m" } }, at);
    };
    bury("dead-old", now - 5000);
    runToEnd(store, "done-old", now - 4000);
    runToEnd(store, "done-new", now);
    // done-old went with finishedTtlMs though it finished after dead-old, which deadTtlMs keeps.
    expect(store.get("done-old", now)).toBeNull();
    expect(store.get("dead-old", now)?.state).toBe("dead");
    expect([...store.finished(now)].map((record) => record.id)).toEqual(["dead-old", "done-new"]);
    // Past maxFinished the oldest finished of either lane goes first.
    bury("dead-new", now + 1);
    runToEnd(store, "done-last", now + 2);
    expect([...store.finished(now + 2)].map((record) => record.id)).toEqual(["done-new", "dead-new", "done-last"]);
    expect(store.get("dead-new", now + 20_000)).toBeNull();
    expect(() => new MemoryStatusStore({ deadTtlMs: 0 })).toThrow(/deadTtlMs must be a positive integer/);
  });

  it("a finished job enqueued again (dead retry) is live again and counted once", () => {
    const store = new MemoryStatusStore({ maxFinished: 2 });
    runToEnd(store, "a", Date.now());
    store.enqueued(payload("a"));
    expect(store.get("a")?.state).toBe("queued");
    runToEnd(store, "b", Date.now());
    runToEnd(store, "c", Date.now());
    expect(store.get("a")?.state).toBe("queued");
    expect(store.size).toBe(3);
  });

  it("tracks retrying, released and progress", () => {
    const store = new MemoryStatusStore();
    store.enqueued(payload("r"));
    store.started("r");
    store.progress("r", 0.5, "half");
    const runAt = new Date(Date.now() + 60_000);
    store.settled("r", { reservation, outcome: "retry", payload: { ...payload("r"), executions: 1, queue: "slow" }, runAt, error: { name: "E", message: "m" } });
    expect(store.get("r")).toMatchObject({ state: "retrying", queue: "slow", runAt, error: { message: "m" }, progress: { fraction: 0.5, message: "half" } });
    store.started("r");
    store.settled("r", { reservation, outcome: "released" });
    expect(store.get("r")).toMatchObject({ state: "scheduled", executions: 1 });
  });

  it("with maxLive, keeps at most that many live statuses, dropping the oldest enqueued", () => {
    const store = new MemoryStatusStore({ maxLive: 3 });
    store.enqueued(payload("live-0"));
    store.enqueued(payload("live-1"));
    runToEnd(store, "done", Date.now()); // live while it runs (3), then finished: its place is free
    store.enqueued(payload("live-2"));
    expect([0, 1, 2].map((i) => store.get(`live-${i}`)?.state)).toEqual(["queued", "queued", "queued"]);
    store.enqueued(payload("live-0")); // enqueued again: now the newest, its old place is skipped
    store.enqueued(payload("live-3"));
    expect([0, 1, 2, 3].map((i) => store.get(`live-${i}`)?.state ?? null)).toEqual(["queued", null, "queued", "queued"]);
    expect(store.get("done")?.state).toBe("succeeded");
    expect(store.size).toBe(4);
  });

  it("rejects a maxLive below 1", () => {
    expect(() => new MemoryStatusStore({ maxLive: 0 })).toThrow(/maxLive must be a number ≥ 1, got 0/);
  });
});

describe("LocalStatusStore", () => {
  it("keeps a producer-only process's memory bounded: the statuses of the last LOCAL_MAX_LIVE jobs it sent", async () => {
    const store = new LocalStatusStore();
    const n = LOCAL_MAX_LIVE + 50;
    for (let from = 0; from < n; from += 10_000) {
      await store.enqueued(Array.from({ length: Math.min(10_000, n - from) }, (_, i) => payload(`sent-${from + i}`)));
    }
    const [first, kept, last] = await store.get(["sent-49", "sent-50", `sent-${n - 1}`]);
    expect(first).toBeNull();
    expect(kept?.state).toBe("queued");
    expect(last?.state).toBe("queued");
  });
});
