// The Redis adapter's compact bodies (body.ts): what the record holds is left out of the
// stored body and put back on the way out, so the payload read equals the payload stored.
import { describe, expect, it } from "vitest";
import superjson from "superjson";

import type { JobPayload } from "@errand/core/adapter";
import { compactBody, expandBody, flowFields, type BodyContext } from "../packages/adapter-redis/src/body.js";

function payload(overrides: Partial<JobPayload> = {}): JobPayload {
  return {
    v: 1,
    job: "ReportJob",
    id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
    queue: "reports",
    priority: -3,
    args: { json: [1] },
    executions: 2,
    enqueuedAt: "2026-12-03T16:17:13.123Z",
    runAt: "2026-12-03T16:20:00.000Z",
    ...overrides,
  };
}

/** The context enqueue gives: everything the record stores. */
function full(p: JobPayload): BodyContext {
  return { id: p.id, queue: p.queue, job: p.job, priority: p.priority, enqueuedAt: Date.parse(p.enqueuedAt), runAt: Date.parse(p.runAt) };
}

function roundTrip(p: JobPayload, context: BodyContext): unknown {
  return JSON.parse(expandBody(compactBody(p, context), context));
}

describe("redis compact bodies", () => {
  it("leaves out what the record holds and rebuilds an equal payload", () => {
    const p = payload();
    const compact = compactBody(p, full(p));
    expect(compact).toBe('_{"args":{"json":[1]},"executions":2}');
    expect(roundTrip(p, full(p))).toEqual(p);
  });

  it("keeps superjson meta, unicode and every optional field as they were", () => {
    const args = superjson.serialize([new Date(0), new Map([["ключ", 1n]]), "emoji 🎉 \u2028 \"quoted\" \\"]);
    const p = payload({ args: args as JobPayload["args"], exceptionExecutions: { ApiError: 2 }, timeoutMs: 5000, group: "g", flow: { concurrency: { key: "k", limit: 2 } } });
    const back = roundTrip(p, full(p)) as JobPayload;
    expect(back).toEqual(p);
    expect(superjson.deserialize(back.args as Parameters<typeof superjson.deserialize>[0])).toEqual(superjson.deserialize(args));
  });

  it("keeps a field whose value the record does not give back exactly", () => {
    // Dates that do not print back as the same ISO string, another id or queue, no record fields.
    const p = payload({ enqueuedAt: "2026-12-03T16:17:13Z", runAt: "2026-12-03T16:20:00.000+00:00" });
    expect(roundTrip(p, full(p))).toEqual(p);
    const moved = payload();
    const context = { id: "other", queue: "elsewhere" };
    const compact = compactBody(moved, context);
    expect(compact.startsWith("A{")).toBe(true);
    expect(roundTrip(moved, context)).toEqual(moved);
    // Only id and queue known: the rest stays in the body.
    expect(roundTrip(payload(), { id: payload().id, queue: "reports" })).toEqual(payload());
  });

  it("stores a payload of another wire version whole, and gives it back as it was", () => {
    const p = { ...payload(), v: 2 } as unknown as JobPayload;
    const compact = compactBody(p, full(payload()));
    expect(compact).toBe(JSON.stringify(p));
    expect(expandBody(compact, full(payload()))).toBe(compact);
  });

  it("refuses a stored body it cannot read, naming the job", () => {
    expect(() => expandBody("!{}", { id: "j1", queue: "q" })).toThrow(/job j1 has an unknown flag "!"/);
    expect(() => expandBody("_{}", { id: "j1", queue: "q" })).toThrow(/job j1 lacks its job/);
    expect(() => expandBody("~A{}", { id: "j1", queue: "q" })).toThrow(/job j1 lacks its flow/);
  });

  it("leaves `flow` to the record's flow fields only when they give it back exactly", () => {
    const flow = { rateLimit: { perMs: 1000, key: "api ✓", limit: 50 }, unique: { key: "u", while: "done" as const }, concurrency: { key: "t", limit: 3 } };
    const p = payload({ flow });
    const context = { ...full(p), flow: flowFields(flow) };
    const compact = compactBody(p, context);
    expect(compact).toBe('~_{"args":{"json":[1]},"executions":2}');
    // As the record holds them: the limits are strings there (enqueue-flow.lua's arguments).
    expect(roundTrip(p, context)).toEqual(p);
    expect(JSON.parse(expandBody(compact, { ...full(p), flow: { ck: "t", cl: "3", rk: "api ✓", rl: "50", rp: "1000", uk: "u", uw: "done" } }))).toEqual(p);
    // What the record does not hold (forMs, a recurring tick) or no record fields: kept whole.
    for (const other of [{ unique: { key: "u", while: "active" as const, forMs: 60_000 } }, { recurring: { task: "t", tick: "2026-12-03T16:00:00.000Z" }, concurrency: { key: "t", limit: 3 } }]) {
      const q = payload({ flow: other });
      const kept = compactBody(q, { ...full(q), flow: flowFields(other) });
      expect(kept.startsWith("_{")).toBe(true);
      expect(roundTrip(q, { ...full(q), flow: flowFields(other) })).toEqual(q);
    }
    expect(compactBody(p, full(p)).startsWith("_{")).toBe(true);
  });
});
