// Core's in-memory store reviving dead jobs: the revived job is due at the runAt core chose
// ("now", to the millisecond), so it must read queued, not scheduled, even when the revival
// crosses a millisecond boundary (a CI run once read "scheduled" right after a retry).
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import type { JobPayload } from "../src/adapter/contract.js";
import { revive } from "../src/backends/client.js";
import { MemoryStore } from "../src/memory/store.js";

function payload(): JobPayload {
  const now = new Date().toISOString();
  return { v: 1, job: "Noop", id: randomUUID(), queue: "default", priority: 0, args: { json: [] }, executions: 2, enqueuedAt: now, runAt: now };
}

/** Waits until the clock has moved to the next millisecond (a sub-millisecond wait, not a sleep). */
function nextMillisecond(): void {
  const start = Date.now();
  while (Date.now() === start) {
    // spin: Date.now() advances within a millisecond
  }
}

describe("MemoryStore.retryDead", () => {
  it("a job revived as the clock ticks is queued and can be taken at once", () => {
    const store = new MemoryStore();
    const job = payload();
    store.add([job]);
    const [reservation] = store.take("*", 1, 60_000);
    store.settle([{ reservation: reservation!, outcome: "dead", error: { name: "Error", message: "boom" } }]);
    expect(
      store.retryDead({ all: true }, (body) => {
        nextMillisecond(); // the revival happens a millisecond after the store began
        return revive(body);
      }),
    ).toBe(1);
    expect(store.statuses.get(job.id)?.state).toBe("queued");
    expect(store.take("*", 1, 60_000)).toHaveLength(1);
  });
});
