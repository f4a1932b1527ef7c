import { describe, expect, it } from "vitest";

import type { JobPayload } from "../src/adapter/contract.js";
import { FlowGate, limitsOf, type Gated } from "../src/memory/flow.js";

const base = { v: 1, job: "J", queue: "q", priority: 0, args: { json: [] }, executions: 0, enqueuedAt: "2026-12-03T10:00:00.000Z", runAt: "2026-12-03T10:00:00.000Z" } as const;

function entry(id: string, flow: JobPayload["flow"]): Gated {
  return { jobId: id, providerJobId: id, limits: limitsOf({ ...base, id, flow }) };
}

describe("memory FlowGate", () => {
  it("limitsOf: undefined without limits; the payload's own flow with them", () => {
    expect(limitsOf({ ...base, id: "a" })).toBeUndefined();
    expect(limitsOf({ ...base, id: "a", flow: { unique: { key: "k", while: "queued" } } })).toBeUndefined();
    const flow = { concurrency: { key: "c", limit: 1 } };
    expect(limitsOf({ ...base, id: "a", flow })).toBe(flow);
  });

  it("keys that emptied are pruned once the map doubles; a key with a holder and a parked job survives and un-parks", () => {
    const gate = new FlowGate<Gated>(() => "queued");
    const holder = entry("holder", { concurrency: { key: "busy", limit: 1 } });
    const waiting = entry("waiting", { concurrency: { key: "busy", limit: 1 } });
    expect(gate.verdict(holder, 0)).toBe("start");
    gate.started(holder, 0);
    expect(gate.verdict(waiting, 0)).toBe("park");
    gate.park(waiting);
    for (let i = 0; i < 5_000; i++) {
      const other = entry(`j${i}`, { concurrency: { key: `k${i}`, limit: 1 } });
      gate.started(other, 0);
      expect(gate.ended(other)).toBeUndefined();
    }
    // 1024 is the floor of the prune threshold: 5,000 keys used once do not stay.
    expect((gate as unknown as { slots: Map<string, unknown> }).slots.size).toBeLessThan(2 * 1024 + 1);
    expect([...gate.waiting()]).toEqual([waiting]);
    expect(gate.ended(holder)).toBe(waiting);
    expect(gate.ended(holder)).toBeUndefined(); // a second end of one lease frees nothing
    expect(gate.verdict(waiting, 0)).toBe("start");
  });

  it("a rate window lets a start in once its oldest start is perMs old", () => {
    const gate = new FlowGate<Gated>(() => "queued");
    const job = entry("r", { rateLimit: { key: "r", limit: 2, perMs: 1_000 } });
    gate.started(job, 0);
    gate.started(job, 10);
    expect(gate.verdict(job, 999)).toBe("defer");
    expect(gate.verdict(job, 1_000)).toBe("start");
    gate.started(job, 1_000);
    expect(gate.verdict(job, 1_009)).toBe("defer");
    expect(gate.verdict(job, 2_000)).toBe("start");
  });
});
