// The wrapper core puts around every adapter call: capability checks, enqueue
// coalescing, error mapping, events. The adapter here is the real test adapter, with
// its capabilities changed to look like a networked backend.
import { describe, expect, it } from "vitest";

import { AdapterClient, revive } from "../src/backends/client.js";
import type { EnqueueOptions } from "../src/adapter/contract.js";
import { TestAdapter } from "../src/backends/test-adapter.js";
import { AdapterClosedError, AdapterError, ConnectionError, UnsupportedError } from "../src/errors.js";
import { TypedEmitter, type ErrandEvents } from "../src/events.js";
import { waitFor } from "../src/testing/wait-for.js";

class SlowDurableAdapter extends TestAdapter {
  override readonly name = "slow";
  override readonly capabilities = { ...new TestAdapter().capabilities, durable: true, maxBatchSize: 10, maxDelayMs: 60_000, priorities: false, maxPayloadBytes: 400 };
  calls: number[] = [];
  failNext: unknown;
  override async enqueue(options: EnqueueOptions) {
    this.calls.push(options.jobs.length);
    await new Promise((resolve) => setImmediate(resolve)); // a network round trip takes at least a turn
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    return super.enqueue(options);
  }
  mapError(error: unknown) {
    return (error as { code?: string }).code === "BACKEND_GONE" ? new ConnectionError(this.name, "enqueue", error) : undefined;
  }
}

const payload = (overrides: Record<string, unknown> = {}) => ({
  v: 1 as const,
  job: "J",
  id: crypto.randomUUID(),
  queue: "default",
  priority: 0,
  args: { json: [] },
  executions: 0,
  enqueuedAt: new Date().toISOString(),
  runAt: new Date().toISOString(),
  ...overrides,
});

describe("AdapterClient", () => {
  it("coalesces 32 enqueues made in one turn into one batch, split by maxBatchSize", async () => {
    const adapter = new SlowDurableAdapter();
    const client = new AdapterClient(adapter, new TypedEmitter<ErrandEvents>());
    const results = await Promise.all(Array.from({ length: 32 }, () => client.enqueue([payload()])));
    expect(adapter.calls).toEqual([10, 10, 10, 2]);
    expect(new Set(results.map(([result]) => result!.providerJobId)).size).toBe(32);
  });

  it("enqueues arriving while one call is in flight wait and go together in the next call", async () => {
    const adapter = new SlowDurableAdapter();
    const client = new AdapterClient(adapter, new TypedEmitter<ErrandEvents>());
    const first = client.enqueue([payload()]);
    await waitFor(() => adapter.calls.length === 1, { message: "the first call in flight" });
    const rest = Array.from({ length: 7 }, () => client.enqueue([payload()]));
    await Promise.all([first, ...rest]);
    expect(adapter.calls).toEqual([1, 7]);
  });

  it("hands each caller its own results", async () => {
    const adapter = new SlowDurableAdapter();
    const client = new AdapterClient(adapter, new TypedEmitter<ErrandEvents>());
    const batches = [[payload(), payload()], [payload()], [payload(), payload(), payload()]];
    const results = await Promise.all(batches.map((batch) => client.enqueue(batch)));
    results.forEach((result, index) => expect(result.map((r) => r.jobId)).toEqual(batches[index]!.map((p) => p.id)));
  });

  it("refuses, before sending, waits past maxDelayMs, priorities, oversized payloads and transactions", async () => {
    const adapter = new SlowDurableAdapter();
    const client = new AdapterClient(adapter, new TypedEmitter<ErrandEvents>());
    await expect(client.enqueue([payload({ runAt: new Date(Date.now() + 120_000).toISOString() })])).rejects.toThrow(
      /J: a wait of \d+ ms is longer than the slow adapter allows \(maxDelayMs 60000\)/,
    );
    await expect(client.enqueue([payload({ priority: 1 })])).rejects.toThrow(UnsupportedError);
    await expect(client.enqueue([payload({ args: { json: ["x".repeat(500)] } })])).rejects.toThrow(/over the slow adapter's limit of 400/);
    await expect(client.enqueue([payload()], {})).rejects.toThrow(/cannot enqueue inside your transaction/);
    expect(adapter.calls).toEqual([]);
  });

  it("maps backend errors through the adapter's mapError, else to AdapterError, and reports them", async () => {
    const adapter = new SlowDurableAdapter();
    const events = new TypedEmitter<ErrandEvents>();
    const calls: ErrandEvents["adapter:call"][] = [];
    events.on("adapter:call", (event) => calls.push(event));
    const client = new AdapterClient(adapter, events);
    adapter.failNext = Object.assign(new Error("backend went away"), { code: "BACKEND_GONE" });
    const refused = await client.enqueue([payload()]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConnectionError);
    expect((refused as ConnectionError).code).toBe("ERR_CONNECTION");
    adapter.failNext = new Error("disk full");
    const other = await client.enqueue([payload()]).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(AdapterError);
    expect((other as Error).message).toBe("slow adapter: enqueue failed: disk full");
    await client.enqueue([payload()]);
    expect(calls.map((call) => [call.operation, call.error ? "error" : "ok"])).toEqual([
      ["enqueue", "error"],
      ["enqueue", "error"],
      ["enqueue", "ok"],
    ]);
    expect(calls.every((call) => call.durationMs >= 0 && call.adapter === "slow")).toBe(true);
  });

  it("maps Node's socket error codes to ConnectionError itself, for every adapter", async () => {
    const adapter = new SlowDurableAdapter();
    const client = new AdapterClient(adapter, new TypedEmitter<ErrandEvents>());
    for (const code of ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH"]) {
      adapter.failNext = Object.assign(new Error(`connect ${code}`), { code });
      const error = await client.enqueue([payload()]).catch((e: unknown) => e);
      expect(error, code).toBeInstanceOf(ConnectionError);
    }
  });

  it("owns the closed state: a call after close() is AdapterClosedError naming adapter and operation", async () => {
    const adapter = new SlowDurableAdapter();
    const client = new AdapterClient(adapter, new TypedEmitter<ErrandEvents>());
    await client.close();
    await client.close(); // closing twice is harmless
    const error = await client.enqueue([payload()]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AdapterClosedError);
    expect((error as AdapterClosedError).code).toBe("ERR_ADAPTER_CLOSED");
    expect((error as Error).message).toBe("slow adapter: enqueue failed: the adapter is closed");
    await expect(client.getStatus(["x"])).rejects.toThrow(/slow adapter: getStatus failed: the adapter is closed/);
    expect(adapter.calls).toEqual([]);
  });

  it("batches: passes the three members through; without the capability refuses them and any payload with a batch, with the adapter's note", async () => {
    const client = new AdapterClient(new TestAdapter(), new TypedEmitter<ErrandEvents>());
    await client.openBatches([{ id: "b1", callbacks: {}, createdAt: new Date().toISOString() }]);
    await client.enqueue([payload({ batch: { id: "b1" } })]);
    await client.sealBatches(["b1"]);
    expect(await client.getBatches(["b1", "nope"])).toEqual([expect.objectContaining({ id: "b1", total: 1, state: "running" }), null]);
    // The backend's own refusal, mapped: an unknown batch named.
    await expect(client.enqueue([payload({ batch: { id: "nope" } })])).rejects.toThrow(/test adapter: enqueue failed: .*batch nope/);
    await expect(client.enqueue([payload({ batch: { id: "b1", extra: 1 } })])).rejects.toThrow(/"batch.extra" is not a batch field/);

    class NoBatches extends TestAdapter {
      override readonly capabilities = { ...new TestAdapter().capabilities, batches: false };
      readonly capabilityNotes = { batches: "a cluster cannot count across slots" };
    }
    const without = new AdapterClient(new NoBatches(), new TypedEmitter<ErrandEvents>());
    const reason = /the test adapter does not support batches \(capability batches\): a cluster cannot count across slots/;
    await expect(without.openBatches([{ id: "b2", callbacks: {}, createdAt: new Date().toISOString() }])).rejects.toThrow(reason);
    await expect(without.sealBatches(["b2"])).rejects.toThrow(UnsupportedError);
    await expect(without.getBatches(["b2"])).rejects.toThrow(reason);
    await expect(without.enqueue([payload({ batch: { id: "b2" } })])).rejects.toThrow(reason);
  });
});

describe("revive (core's decision on a dead job)", () => {
  it("resets executions and runAt, keeps everything else, and encodes the body", () => {
    const dead = payload({ executions: 7, queue: "low", priority: 5, runAt: "2020-01-01T00:00:00.000Z" });
    const before = Date.now();
    const job = revive(JSON.stringify(dead))!;
    expect(job.payload).toMatchObject({ ...dead, executions: 0, runAt: expect.any(String) });
    expect(Date.parse(job.payload.runAt)).toBeGreaterThanOrEqual(before - 1);
    expect(JSON.parse(job.body)).toEqual(job.payload);
  });

  it("keeps dead what would only die again: not JSON, not an object, not wire format v1", () => {
    expect(revive("{not json")).toBeNull();
    expect(revive("42")).toBeNull();
    expect(revive(JSON.stringify({ ...payload(), v: 2 }))).toBeNull();
    expect(revive(JSON.stringify({ ...payload(), job: "" }))).toBeNull();
  });
});
