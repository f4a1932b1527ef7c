/**
 * What the adapter keeps on a message besides its body: the message attributes it writes
 * (a long delay's due time, a dead job's reason, time of death and id) and the handle core
 * carries for each reservation. Plus the two places it looks into a body, which core owns
 * otherwise: the job id (for statuses and the dead set) and, on FIFO queues, the execution
 * count.
 *
 * @module
 */
import type { MessageAttributeValue } from "@aws-sdk/client-sqs";
import type { FlowControl, Reservation, StatusDelivery, StatusLease, StoredError } from "@errand/core/adapter";

import type { SqsQueue } from "./queues.js";

/** A hop's real due time (ms), on a message sent early with the longest delay SQS allows. */
export const RUN_AT = "errand-run-at";
/** A dead message's error (`StoredError` JSON). */
export const ERROR = "errand-error";
/** When a dead message died (ms). */
export const DIED_AT = "errand-died-at";
/** A dead message's id as workers and `errand dead` name it: the job id, or for a body without one the original message id. */
export const DEAD_ID = "errand-id";
/** Attributes requested by name: AWS returns only those asked for (the emulator returns all). */
export const ATTRIBUTES = [RUN_AT, ERROR, DIED_AT, DEAD_ID];

/** A number attribute. */
export function numberAttribute(value: number): MessageAttributeValue {
  return { DataType: "Number", StringValue: String(value) };
}

/** The attributes of a message sent to a dead-letter queue. */
export function deadAttributes(id: string, error: StoredError, diedAt: number): Record<string, MessageAttributeValue> {
  return {
    [ERROR]: { DataType: "String", StringValue: JSON.stringify(error) },
    [DIED_AT]: numberAttribute(diedAt),
    // The copy in the dead-letter queue gets a new message id; keep the one the worker reported.
    [DEAD_ID]: { DataType: "String", StringValue: id },
  };
}

/** What core hands back with each reservation. */
export interface Handle {
  queue: SqsQueue;
  receipt: string;
  /** The job id in the body (for the status store), when the body could be read. */
  jobId: string | undefined;
  /**
   * The `runAt` the body carries, as written (`""` when it has none): a status store with the
   * operator's side tells a superseded copy (run now) by it.
   */
  runAt?: string;
  /** When the message was received: the visibility timeout cannot reach past 12 h from it. */
  receivedAt: number;
  /**
   * Flow control the status store holds for this delivery (`flow.ts`): its concurrency key
   * (a slot, extended with the lease and freed at settle) and unique key (let expire when
   * the job finishes). Absent for jobs without either.
   */
  flow?: { concurrency?: string; unique?: string };
  /** The job is counted in a batch: its status is written before SQS settles it (`settling.ts`). */
  batch?: true;
  /** The job is a batch's callback: a second copy in one hand-out is deleted (`receiving.ts`). */
  callback?: true;
}

/** The adapter's handle of a reservation. */
export function handleOf(reservation: Reservation): Handle {
  return reservation.handle as Handle;
}

/** The status-store leases of reservations whose body named a job (see `StatusStore`). */
export function leasesOf(reservations: readonly Reservation[]): StatusLease[] {
  return reservations.flatMap((reservation) => {
    const { jobId, receipt } = handleOf(reservation);
    return jobId ? [{ id: jobId, lease: receipt }] : [];
  });
}

/** The deliveries of reservations whose body named a job, with the `runAt` each body carries (`StatusDelivery`). */
export function deliveriesOf(reservations: readonly Reservation[]): (StatusDelivery & { reservation: Reservation })[] {
  return reservations.flatMap((reservation) => {
    const { jobId, receipt, runAt = "" } = handleOf(reservation);
    return jobId ? [{ id: jobId, lease: receipt, runAt, reservation }] : [];
  });
}

/** The job id in a body, when it parses and has one. */
export function peekId(body: string | undefined): string | undefined {
  return peek(body).id;
}

/**
 * The job id, `runAt` and flow control in a body, from one parse: `flow` when it is an object
 * (core validates it at enqueue; a body with a malformed one is buried by core when it runs).
 */
export function peek(body: string | undefined): { id?: string; runAt?: string; flow?: FlowControl; batch?: true; callback?: true } {
  try {
    const { id, runAt, flow, batch } = JSON.parse(body ?? "") as { id?: unknown; runAt?: unknown; flow?: unknown; batch?: { callback?: unknown } | null };
    return {
      ...(typeof id === "string" ? { id } : {}),
      ...(typeof runAt === "string" ? { runAt } : {}),
      ...(flow !== null && typeof flow === "object" ? { flow: flow as FlowControl } : {}),
      // A job counted in a batch (a callback is not).
      ...(batch !== null && typeof batch === "object" ? (batch.callback === undefined ? { batch: true as const } : { callback: true as const }) : {}),
    };
  } catch {
    return {};
  }
}

/** The body with `executions` set to `count` when it parses (FIFO retries keep their first body). */
export function withExecutions(body: string, count: number): string {
  try {
    const payload = JSON.parse(body) as { executions?: unknown };
    if (payload && typeof payload === "object" && typeof payload.executions === "number" && payload.executions < count) {
      return JSON.stringify({ ...payload, executions: count });
    }
  } catch {
    // Malformed: core buries it with the reason.
  }
  return body;
}
