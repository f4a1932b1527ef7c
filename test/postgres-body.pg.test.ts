// The PostgreSQL adapter's narrow bodies (src/body.ts): a plain job's body leaves out what its
// columns hold (v, id, priority, runAt) and the reserve and the dead set put it back, so the
// payload read equals the payload stored; a payload whose fields would not come back exactly
// is stored whole, and so are rows stored before.
import { describe, expect, it } from "vitest";

import type { JobPayload } from "@errand/core/adapter";
import { uuidv7 } from "@errand/core/adapter";
import { PostgresAdapter } from "@errand/adapter-postgres";

import { expandBody, narrowable, narrowPart } from "../packages/adapter-postgres/src/body.js";
import { freshPostgresAdapters } from "./support/postgres-adapters.js";

const freshAdapter = freshPostgresAdapters();

function payload(overrides: Partial<JobPayload> = {}): JobPayload {
  return {
    v: 1,
    job: "ReportJob",
    id: uuidv7(),
    queue: "reports",
    priority: -3,
    args: { json: [{ "quote\"d": "tab\there", n: 1.5 }], meta: { values: { "0.x": ["custom", "x"] } } },
    executions: 2,
    enqueuedAt: "2026-12-03T16:17:13.123Z",
    runAt: "2026-12-03T16:20:00.000Z",
    ...overrides,
  };
}

const stored = async (adapter: PostgresAdapter, id: string) =>
  (await adapter.pool.query<{ body: string }>(`SELECT body FROM "${adapter.schema}".jobs WHERE id = $1`, [id.toLowerCase()])).rows[0]!.body;

async function reserveAll(adapter: PostgresAdapter, queues: string[], count: number) {
  const reservations = await adapter.reserve({ queues, max: count, leaseMs: 60_000, waitMs: 0, workerId: "body" });
  expect(reservations).toHaveLength(count);
  return reservations;
}

describe("postgres narrow bodies", () => {
  it("leaves out only what comes back exactly", () => {
    const p = payload();
    expect(narrowable(p)).toBe(true);
    expect(JSON.parse(expandBody(`_${JSON.stringify(narrowPart(p))}`, p.id, p.priority, Date.parse(p.runAt)))).toEqual(p);
    // Spelled otherwise than PostgreSQL prints it, or not printed back the same by toISOString.
    expect(narrowable(payload({ id: p.id.toUpperCase() }))).toBe(false);
    expect(narrowable(payload({ runAt: "2026-12-03T16:20:00Z" }))).toBe(false);
    expect(narrowable(payload({ runAt: "2026-12-03T16:20:00.000+00:00" }))).toBe(false);
    expect(narrowable(payload({ runAt: "2026-02-30T16:20:00.000Z" }))).toBe(false);
    expect(narrowable(payload({ priority: 2 ** 53 }))).toBe(false);
    // Every other key is kept, one JobPayload does not name included.
    const { v: _v, id: _id, priority: _p, runAt: _r, ...rest } = payload({ timeoutMs: 5000, group: "g" });
    expect(narrowPart(payload({ timeoutMs: 5000, group: "g", id: p.id }))).toEqual(rest);
    expect(JSON.parse(JSON.stringify(narrowPart({ ...p, future: [1] } as JobPayload)))).toEqual({ ...JSON.parse(JSON.stringify(narrowPart(p))), future: [1] });
    // A full body comes back as it is, whatever the columns say.
    expect(expandBody(JSON.stringify(p), p.id, 99, null)).toBe(JSON.stringify(p));
    expect(() => expandBody("_{}", p.id, 0, null)).toThrow(/without its run_at/);
  });

  it("stores a plain job narrow, and reserve gives back the payload enqueued (uniform and mixed batches)", async () => {
    const adapter = freshAdapter();
    try {
      const uniform = [payload(), payload({ args: { json: ["ü\\\\n", null] } })];
      const mixed = [payload({ queue: "a", priority: 2, timeoutMs: 5000 }), payload({ queue: "b", job: "OtherJob", group: "g-1", executions: 0 })];
      await adapter.enqueue({ jobs: uniform });
      await adapter.enqueue({ jobs: mixed });
      for (const job of [...uniform, ...mixed]) {
        const body = await stored(adapter, job.id);
        expect(body.startsWith("_{")).toBe(true);
        expect(JSON.parse(body.slice(1))).toEqual(narrowPart(job));
      }
      const reserved = await reserveAll(adapter, ["reports", "a", "b"], 4);
      const read = new Map(reserved.map((r) => [r.providerJobId, JSON.parse(r.body) as JobPayload]));
      for (const job of [...uniform, ...mixed]) expect(read.get(job.id)).toEqual(job);
    } finally {
      await adapter.close();
    }
  });

  it("stores whole a payload whose fields would not come back exactly, and gives it back unchanged", async () => {
    const adapter = freshAdapter();
    try {
      const upper = payload({ id: uuidv7().toUpperCase() });
      const seconds = payload({ runAt: "2026-12-03T16:20:00Z" });
      await adapter.enqueue({ jobs: [upper, seconds] });
      expect(await stored(adapter, upper.id)).toBe(JSON.stringify(upper));
      expect(await stored(adapter, seconds.id)).toBe(JSON.stringify(seconds));
      const reserved = await reserveAll(adapter, ["reports"], 2);
      expect(reserved.map((r) => r.body).sort()).toEqual([JSON.stringify(upper), JSON.stringify(seconds)].sort());
    } finally {
      await adapter.close();
    }
  });

  it("a narrow job that dies is listed and revived with its whole payload", async () => {
    const adapter = freshAdapter();
    try {
      const job = payload({ queue: "dying" });
      await adapter.enqueue({ jobs: [job] });
      const [reservation] = await reserveAll(adapter, ["dying"], 1);
      await adapter.settle({ settlements: [{ reservation: reservation!, outcome: "dead", error: { name: "Error", message: "gone" } }] });
      expect(await stored(adapter, job.id)).toMatch(/^_\{/);
      const [dead] = await adapter.listDead({ queue: "dying" });
      expect(JSON.parse(dead!.body)).toEqual(job);
      let seen: JobPayload | undefined;
      const moved = await adapter.retryDead({
        select: { ids: [job.id] },
        revive: (body) => {
          seen = JSON.parse(body) as JobPayload;
          const revived = { ...seen, executions: 0 };
          return { payload: revived, body: JSON.stringify(revived) };
        },
      });
      expect(moved).toBe(1);
      expect(seen).toEqual(job);
      const [again] = await reserveAll(adapter, ["dying"], 1);
      expect(JSON.parse(again!.body)).toEqual({ ...job, executions: 0 });
    } finally {
      await adapter.close();
    }
  });
});
