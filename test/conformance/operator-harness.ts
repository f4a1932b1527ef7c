/**
 * Helpers of the operator's conformance areas (list-jobs.ts, control-*.ts): jobs stored
 * and moved through the adapter itself, so each case sets up exactly the states it lists,
 * and worker beats as core's worker sends them.
 */
import type { JobPayload, Reservation, RunningJobInfo, WorkerInfo } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { payload, reserve, type Fixture } from "./harness.js";

/** An error as a failed run stores it. */
export const FAILURE = { name: "Error", message: "it broke" };

/** Stores payloads through the adapter, in one call; returns them. */
export async function store(fixture: Fixture, ...payloads: JobPayload[]): Promise<JobPayload[]> {
  await fixture.adapter.enqueue({ jobs: payloads });
  return payloads;
}

/** A payload of `queue` whose run time is `agoMs` in the past (distinct run times make "oldest" unambiguous on every backend). */
export function readySince(queue: string, agoMs: number, overrides: Partial<JobPayload> = {}): JobPayload {
  return payload({ queue, runAt: new Date(Date.now() - agoMs).toISOString(), ...overrides });
}

/** A payload of `queue` due `inMs` from now. */
export function dueIn(queue: string, inMs: number, overrides: Partial<JobPayload> = {}): JobPayload {
  return payload({ queue, runAt: new Date(Date.now() + inMs).toISOString(), ...overrides });
}

/** Leases the ready jobs of `queue` (up to `max`), waiting until `count` of them came (a backend may hand out a few per call). */
export async function take(fixture: Fixture, queue: string, count: number): Promise<Reservation[]> {
  const taken: Reservation[] = [];
  await waitFor(
    async () => {
      taken.push(...(await reserve(fixture.adapter, { queues: [queue], max: count - taken.length })));
      return taken.length >= count;
    },
    { timeoutMs: 10_000, message: `${count} jobs of ${queue} to be reserved` },
  );
  return taken;
}

/** The Errand id of a reservation. */
export function idOf(reservation: Reservation): string {
  return (JSON.parse(reservation.body) as JobPayload).id;
}

/** Waits until the clock is past `ms` (so the next write is in a later millisecond than the last). */
export async function after(ms: number): Promise<void> {
  await waitFor(() => Date.now() > ms + 1, { intervalMs: 1, message: "the clock to move on" });
}

/**
 * Settles reservations one by one with `outcome`, each in a later millisecond than the one
 * before, so the order they finished in is unambiguous.
 */
export async function settleInTurn(fixture: Fixture, reservations: Reservation[], outcome: "succeeded" | "failed" | "dead"): Promise<void> {
  for (const reservation of reservations) {
    await after(Date.now());
    const settlement =
      outcome === "succeeded"
        ? { reservation, outcome }
        : outcome === "failed"
          ? { reservation, outcome, error: FAILURE }
          : { reservation, outcome, error: FAILURE, payload: JSON.parse(reservation.body) as JobPayload };
    await fixture.adapter.settle({ settlements: [settlement] });
  }
}

/** Settles a reservation as a failed run retried at `runAt` (its payload's `executions` counted up). */
export async function retryAt(fixture: Fixture, reservation: Reservation, runAt: Date): Promise<void> {
  const retried = { ...(JSON.parse(reservation.body) as JobPayload), runAt: runAt.toISOString() };
  retried.executions += 1;
  await fixture.adapter.settle({ settlements: [{ reservation, outcome: "retry", payload: retried, runAt, error: FAILURE }] });
}

/** A worker's report of itself, as core's worker beats it. */
export function workerInfo(id: string, running: RunningJobInfo[] = []): WorkerInfo {
  return { id, host: "conformance-host", pid: process.pid, adapter: "conformance", queues: "*", concurrency: 4, startedAt: new Date(Date.now() - 1000), running };
}

/** What a worker's beat says of a job it runs. */
export function running(reservation: Reservation): RunningJobInfo {
  const body = JSON.parse(reservation.body) as JobPayload;
  return { id: body.id, job: body.job, queue: body.queue, startedAt: new Date() };
}
