/**
 * The status-store conformance cases' fixtures: payloads as core would store them, lease
 * tokens, settlements of each outcome, and a few reads that assert as they go.
 */
import { randomBytes } from "node:crypto";

import { expect } from "vitest";

import { uuidv7, type JobPayload, type Settlement, type StatusRecord, type StatusStore, type StoredError } from "@errand/core/adapter";

/** Runs `run` with a fresh store (from `make`, else the suite's factory) and always closes it. */
export type WithStore = (run: (store: StatusStore) => Promise<void>, make?: () => Promise<StatusStore>) => Promise<void>;

/** The `WithStore` of one store factory. */
export function storeRunner(create: () => Promise<StatusStore>): WithStore {
  return async (run, make = create) => {
    const store = await make();
    try {
      await run(store);
    } finally {
      await store.close();
    }
  };
}

export const HOUR = 3_600_000;
/** Slack for times stamped by a server's clock (Redis TIME, PostgreSQL now()) against this process's. */
const CLOCK_SLACK_MS = 1000;

export const boom: StoredError = { name: "Error", message: "boom", stack: "Error: boom\n    at perform (job.ts:1:1)" };
export const gone: StoredError = { name: "GoneError", message: "record gone", code: "E_GONE" };

/** A payload due now (or at `runAt`), as core would store it. */
export function payload(overrides: Partial<JobPayload> = {}): JobPayload {
  const now = Date.now();
  return {
    v: 1,
    job: "ReportJob",
    id: uuidv7(),
    queue: "reports",
    priority: 3,
    args: { json: [42] },
    executions: 0,
    enqueuedAt: new Date(now - 2000).toISOString(),
    runAt: new Date(now - 1000).toISOString(),
    ...overrides,
  };
}

export function later(ms = HOUR): string {
  return new Date(Date.now() + ms).toISOString();
}

/** A fresh lease token (an SQS receipt handle, say). */
export function lease(): string {
  return `lease-${randomBytes(6).toString("hex")}`;
}

const reservation = (id: string) => ({ providerJobId: id, body: "" });

export const outcome = {
  succeeded: (id: string, result?: string): Settlement =>
    result === undefined ? { reservation: reservation(id), outcome: "succeeded" } : { reservation: reservation(id), outcome: "succeeded", result },
  failed: (id: string, error: StoredError = gone): Settlement => ({ reservation: reservation(id), outcome: "failed", error }),
  dead: (id: string, error: StoredError = boom): Settlement => ({ reservation: reservation(id), outcome: "dead", error }),
  released: (id: string): Settlement => ({ reservation: reservation(id), outcome: "released" }),
  retry: (p: JobPayload, runAt: Date, changes: { queue?: string; priority?: number } = {}): Settlement => ({
    reservation: reservation(p.id),
    outcome: "retry",
    payload: { ...p, ...changes, executions: p.executions + 1, runAt: runAt.toISOString() },
    runAt,
    error: boom,
  }),
};

/** Asserts a time stamped during a call that began at `before` and ended at `after`. */
export function expectDuring(date: Date | undefined, before: number, after: number): void {
  expect(date).toBeInstanceOf(Date);
  expect(date!.getTime()).toBeGreaterThanOrEqual(before - CLOCK_SLACK_MS);
  expect(date!.getTime()).toBeLessThanOrEqual(after + CLOCK_SLACK_MS);
}

/** The one status of `id`, which must exist. */
export async function statusOf(store: StatusStore, id: string): Promise<StatusRecord> {
  const [record] = await store.get([id]);
  expect(record, `status of ${id}`).not.toBeNull();
  return record!;
}

/** The stale ids among these (id, lease) pairs. */
export async function staleOf(store: StatusStore, ...pairs: [id: string, lease: string][]): Promise<string[]> {
  return [...(await store.stale(pairs.map(([id, l]) => ({ id, lease: l }))))].sort();
}
