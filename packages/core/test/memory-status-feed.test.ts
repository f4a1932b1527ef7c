// The in-memory status feed: changes are collected synchronously and delivered in one
// onChange per microtask batch; nothing is collected while nobody listens.
import { describe, expect, it } from "vitest";

import type { JobPayload } from "../src/adapter/contract.js";
import { LocalStatusStore } from "../src/memory/local-status.js";
import { MemoryStore } from "../src/memory/store.js";
import { StatusEvents } from "../src/memory/status-events.js";
import { waitFor } from "../src/testing/wait-for.js";

const payload = (id: string): JobPayload => ({
  v: 1,
  job: "J",
  id,
  queue: "q",
  priority: 0,
  args: { json: [] },
  executions: 0,
  enqueuedAt: new Date().toISOString(),
  runAt: new Date().toISOString(),
});

/** A feed on `events` recording each onChange call. */
async function record(events: StatusEvents) {
  const calls: string[][] = [];
  const feed = await events.open({ onChange: (ids) => calls.push([...ids]), onReconnect: () => calls.push(["<reconnect>"]) });
  return { calls, feed };
}

/** Lets queued microtasks (the feed's delivery) run. */
const microtasks = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("memory status feed", () => {
  it("a bulk enqueue of 1,000 jobs is one onChange of 1,000 ids", async () => {
    const store = new MemoryStore();
    const { calls, feed } = await record(store.statuses.events);
    const ids = Array.from({ length: 1000 }, (_, i) => `job-${i}`);
    store.add(ids.map(payload));
    expect(calls).toEqual([]); // delivered in a microtask, not inside the write
    await microtasks();
    expect(calls).toEqual([ids]);
    await feed.close();
  });

  it("one batch holds each id once, whatever the number of changes to it", async () => {
    const store = new MemoryStore();
    const { calls, feed } = await record(store.statuses.events);
    store.add([payload("a")]);
    const [reservation] = store.take(["q"], 1, 30_000);
    store.statuses.progress("a", 0.5);
    store.settle([{ reservation: reservation!, outcome: "succeeded" }]);
    await microtasks();
    expect(calls).toEqual([["a"]]);
    await feed.close();
  });

  it("reports lease expiry, revival and purge; a closed feed hears nothing more", async () => {
    const store = new MemoryStore();
    const { calls, feed } = await record(store.statuses.events);
    store.add([payload("a")]);
    const [first] = store.take(["q"], 1, 1);
    await microtasks();
    calls.length = 0;
    // Once the 1 ms lease has run out, a take's sweep hands the job back and leases it again.
    const [again] = await waitFor(() => {
      const taken = store.take(["q"], 1, 30_000);
      return taken.length > 0 && taken;
    }, { message: "the job to come back after its lease" });
    expect(again?.providerJobId).toBe(first!.providerJobId);
    await microtasks();
    expect(calls).toEqual([["a"]]);
    store.settle([{ reservation: again!, outcome: "dead", error: { name: "E", message: "x" }, payload: payload("a") }]);
    expect(store.retryDead({ ids: ["a"] }, (body) => ({ payload: payload("a"), body }))).toBe(1);
    await microtasks();
    expect(calls).toEqual([["a"], ["a"]]);
    const [third] = store.take(["q"], 1, 30_000);
    store.settle([{ reservation: third!, outcome: "dead", error: { name: "E", message: "x" } }]);
    await microtasks();
    expect(store.purgeDead({ ids: ["a"] })).toBe(1);
    await microtasks();
    expect(calls).toEqual([["a"], ["a"], ["a"], ["a"]]);
    await feed.close();
    store.add([payload("b")]);
    await microtasks();
    expect(calls).toHaveLength(4);
  });

  it("collects nothing while nobody listens", async () => {
    const events = new StatusEvents();
    events.changed("a");
    const { calls, feed } = await record(events);
    await microtasks();
    expect(calls).toEqual([]);
    await feed.close();
    expect(events.active).toBe(false);
  });

  it("refuses a feed without both callbacks", async () => {
    await expect(new StatusEvents().open({ onChange: () => undefined } as never)).rejects.toThrow("openStatusFeed: give { onChange(ids), onReconnect() }");
  });

  it("LocalStatusStore.openFeed reports the store's writes", async () => {
    const store = new LocalStatusStore();
    const calls: string[][] = [];
    const feed = await store.openFeed({ onChange: (ids) => calls.push([...ids]), onReconnect: () => undefined });
    await store.enqueued([payload("a"), payload("b")]);
    await store.started([{ id: "a", lease: "l1" }]);
    await store.settled([{ id: "a", lease: "l1", settlement: { reservation: { providerJobId: "a", body: "{}" }, outcome: "succeeded" } }]);
    await store.delete(["b"]);
    await microtasks();
    expect(calls.flat().sort()).toEqual(["a", "a", "a", "b", "b"]);
    await feed.close();
  });
});
