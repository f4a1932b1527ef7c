/**
 * What the SQS adapter can do, as data: its capabilities on standard and FIFO queues, and
 * those a status store turns on. SQS keeps messages only, so whatever needs job state comes
 * from the status store:
 *
 * - a shared store with `flow` (Redis, PostgreSQL): unique jobs, concurrency and rate
 *   limits, recurring ticks (`flow.ts`);
 * - a shared store with `control` (Redis, PostgreSQL): listing jobs and the operator's
 *   actions, pauses, worker beats and throughput (`control.ts`);
 * - a shared store with `batches` and `flow` (Redis, PostgreSQL): batches, counted by the
 *   store, their callbacks sent through the flow's pending sends (`batches.ts`).
 *
 * With the default `LocalStatusStore` (this process's memory) those stay off, and core's
 * refusal carries the note saying why and what turns them on.
 *
 * @module
 */
import { baseCapabilities, type AdapterCapabilities, type StatusStore } from "@errand/core/adapter";

import { ATTRIBUTE_ALLOWANCE_BYTES, MAX_MESSAGE_BYTES } from "./limits.js";

/** Standard queues. */
export const STANDARD_CAPABILITIES: AdapterCapabilities = Object.freeze({
  ...baseCapabilities,
  priorities: false,
  maxPriority: 0,
  durable: true,
  blockingReserve: true,
  // Larger batches are cut into SendMessageBatch calls of ten here, sent side by side.
  maxBatchSize: 1000,
  maxPayloadBytes: MAX_MESSAGE_BYTES - ATTRIBUTE_ALLOWANCE_BYTES,
  // Every status store Errand ships has a feed; an adapter on a store without one says false.
  statusFeed: true,
});

/** FIFO queues: ordering groups, no per-message delay. */
export const FIFO_CAPABILITIES: AdapterCapabilities = Object.freeze({ ...STANDARD_CAPABILITIES, maxDelayMs: 0, groups: true });

/** What a shared status store with flow control (`StatusStore.flow`) turns on. */
export const SHARED_STORE_FLOW: Readonly<Pick<AdapterCapabilities, "unique" | "concurrencyLimits" | "rateLimits" | "recurring">> = Object.freeze({
  unique: true,
  concurrencyLimits: true,
  rateLimits: true,
  recurring: true,
});

/** What a shared status store with the operator's side (`StatusStore.control`) turns on. */
export const SHARED_STORE_CONTROL: Readonly<Pick<AdapterCapabilities, "listJobs" | "control">> = Object.freeze({ listJobs: true, control: true });

/** What a shared status store with batches (`StatusStore.batches`, and `flow` for the callbacks' sends) turns on. */
export const SHARED_STORE_BATCHES: Readonly<Pick<AdapterCapabilities, "batches">> = Object.freeze({ batches: true });

const STORES = "status: new RedisStatusStore(...) from @errand/adapter-redis, or new PostgresStatusStore(...) from @errand/adapter-postgres";

/** Why flow control is off without a shared store, added to core's refusal. */
const NEEDS_SHARED_FLOW =
  `the sqs adapter enforces flow control through its status store, and needs a shared one (${STORES}); ` +
  "the default LocalStatusStore keeps state in this process only";

/** Why listing and the operator's actions are off without a shared store, added to core's refusal. */
const NEEDS_SHARED_CONTROL =
  `SQS can neither list a queue's messages nor change one it has not received: the sqs adapter lists jobs and marks them for cancel, run-now and abort in its status store, and needs a shared one (${STORES}); ` +
  "the default LocalStatusStore keeps statuses in this process only, where another process's actions and workers are unknown";

/** Why batches are off without a shared store, added to core's refusal. */
const NEEDS_SHARED_BATCHES =
  `SQS keeps no job state: the sqs adapter counts a batch's jobs and enqueues its callbacks, exactly once, through its status store, and needs a shared one (${STORES}); ` +
  "the default LocalStatusStore keeps state in this process only, where jobs another process finishes are never counted";

/** The capabilities of an adapter on `store`, and the notes of those it leaves off. */
export function capabilitiesOf(fifo: boolean, store: StatusStore): { capabilities: AdapterCapabilities; notes?: Partial<Record<keyof AdapterCapabilities, string>> } {
  const flow = store.shared === true && store.flow !== undefined;
  const control = store.shared === true && store.control !== undefined;
  const batches = flow && store.batches !== undefined;
  const capabilities: AdapterCapabilities = {
    ...(fifo ? FIFO_CAPABILITIES : STANDARD_CAPABILITIES),
    localStatus: store.shared !== true,
    statusFeed: typeof store.openFeed === "function",
    ...(flow ? SHARED_STORE_FLOW : {}),
    ...(control ? SHARED_STORE_CONTROL : {}),
    ...(batches ? SHARED_STORE_BATCHES : {}),
  };
  const notes: Partial<Record<keyof AdapterCapabilities, string>> = {};
  if (!flow) Object.assign(notes, { unique: NEEDS_SHARED_FLOW, concurrencyLimits: NEEDS_SHARED_FLOW, rateLimits: NEEDS_SHARED_FLOW, recurring: NEEDS_SHARED_FLOW });
  if (!control) Object.assign(notes, { listJobs: NEEDS_SHARED_CONTROL, control: NEEDS_SHARED_CONTROL });
  if (!batches) notes.batches = NEEDS_SHARED_BATCHES;
  return Object.keys(notes).length > 0 ? { capabilities, notes } : { capabilities };
}
