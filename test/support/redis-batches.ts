// Helpers of the Redis adapter's batch tests (redis-batches*.test.ts): adapters on prefixes
// of their own, batches with callbacks, and jobs reserved and settled by hand.
import { randomUUID } from "node:crypto";

import { RedisAdapter, type RedisAdapterOptions } from "@errand/adapter-redis";
import type { BatchCallbackKind, JobPayload, NewBatch, Reservation, Settlement } from "@errand/core/adapter";

import { payload } from "../conformance/harness.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./redis.js";

/** The queue callbacks go to in these tests. */
export const CALLBACKS = "callbacks";

/** Adapters of one test file, closed and their keys dropped by `close`. */
export class BatchAdapters {
  private readonly url = redisUrl();
  private readonly prefixes: string[] = [];
  private readonly opened: RedisAdapter[] = [];

  /** An adapter on a fresh prefix, or on `prefix` (another process of the same app). */
  open(prefix = redisPrefix(), options: Partial<RedisAdapterOptions> = {}): RedisAdapter {
    if (!this.prefixes.includes(prefix)) this.prefixes.push(prefix);
    const adapter = new RedisAdapter({ url: this.url, prefix, pollMs: 50, ...options } as RedisAdapterOptions);
    this.opened.push(adapter);
    return adapter;
  }

  async close(): Promise<void> {
    await Promise.all(this.opened.map((adapter) => adapter.close()));
    await dropPrefixes(this.url, this.prefixes);
  }
}

/** A new batch with the callbacks of `kinds` (class `<Kind>Callback`, queue `CALLBACKS`). */
export function newBatch(kinds: readonly BatchCallbackKind[] = ["complete", "success", "failure"], description?: string): NewBatch {
  const id = randomUUID();
  const callbacks: NewBatch["callbacks"] = {};
  for (const kind of kinds) callbacks[kind] = payload({ queue: CALLBACKS, job: `${kind}Callback`, batch: { id, callback: kind } });
  return { id, callbacks, createdAt: new Date().toISOString(), ...(description === undefined ? {} : { description }) };
}

/** `count` jobs of batch `id` in `queue`. */
export function batchJobs(id: string, count: number, overrides: Partial<JobPayload> = {}): JobPayload[] {
  return Array.from({ length: count }, () => payload({ batch: { id }, ...overrides }));
}

export function reserve(adapter: RedisAdapter, queue = "default", max = 100): Promise<Reservation[]> {
  return adapter.reserve({ queues: [queue], max, leaseMs: 30_000, waitMs: 0, workerId: "batch-test" });
}

const error = { name: "Error", message: "boom" };

/** A settlement of `reservation`: `s` succeeded, `f` failed (discarded), `d` dead, `r` retry. */
export function outcome(reservation: Reservation, kind: "s" | "f" | "d" | "r", queue?: string): Settlement {
  if (kind === "s") return { reservation, outcome: "succeeded" };
  if (kind === "f") return { reservation, outcome: "failed", error };
  const body = JSON.parse(reservation.body) as JobPayload;
  if (kind === "d") return { reservation, outcome: "dead", error, payload: body };
  return { reservation, outcome: "retry", error, runAt: new Date(), payload: { ...body, executions: body.executions + 1, ...(queue ? { queue } : {}) } };
}

/** The job classes of the callbacks waiting in `CALLBACKS`, sorted (reserving them). */
export async function callbacksStored(adapter: RedisAdapter): Promise<string[]> {
  return (await reserve(adapter, CALLBACKS)).map((r) => (JSON.parse(r.body) as JobPayload).job).sort();
}
