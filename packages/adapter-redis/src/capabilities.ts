/**
 * What the Redis adapter supports, on a standalone Redis and on a Redis Cluster, and why a
 * capability is off on the latter.
 *
 * @module
 */
import { baseCapabilities, type AdapterCapabilities } from "@errand/core/adapter";

/**
 * Largest priority magnitude the ready score holds exactly: the score is
 * (priority + 2^20) · 2^32 + arrival, a double, exact below 2^53, so priority + 2^20 must
 * stay below 2^21 (2^20 itself would round arrivals within its band).
 */
export const MAX_PRIORITY = 2 ** 20 - 1;

/** What a standalone Redis supports. */
export const REDIS_CAPABILITIES: AdapterCapabilities = Object.freeze({
  ...baseCapabilities,
  durable: true,
  blockingReserve: true,
  wildcardQueues: true,
  maxBatchSize: 5000,
  maxPrefetch: 500,
  maxPriority: MAX_PRIORITY,
  statusFeed: true,
  unique: true,
  concurrencyLimits: true,
  rateLimits: true,
  recurring: true,
  listJobs: true,
  control: true,
  batches: true,
});

/**
 * What a Redis Cluster supports: flow keys are global, outside any queue's slot, so unique,
 * concurrency and rate limits cannot be atomic there; recurring state lives in the queue's
 * slot and works. A batch's record is global too (its jobs may be in several queues, and
 * settling any of them must count it in the same script): no batches.
 */
export const CLUSTER_CAPABILITIES: AdapterCapabilities = Object.freeze({
  ...REDIS_CAPABILITIES,
  unique: false,
  concurrencyLimits: false,
  rateLimits: false,
  batches: false,
});

/** Why a capability is off, per capability. */
export type CapabilityNotes = Readonly<Partial<Record<keyof AdapterCapabilities, string>>>;

const CLUSTER_REASON = "on a Redis Cluster: flow-control keys are global and a cluster cannot update keys of several slots in one atomic script; use a standalone Redis (with a replica for failover)";

const CLUSTER_BATCH_REASON =
  "on a Redis Cluster: a batch's record is one key that the script settling each of its jobs must update together with the job's queue, and a cluster cannot update keys of several slots in one atomic script; use a standalone Redis (with a replica for failover)";

/** Why the cluster's missing capabilities are off. */
export const CLUSTER_REASONS: CapabilityNotes = Object.freeze({ unique: CLUSTER_REASON, concurrencyLimits: CLUSTER_REASON, rateLimits: CLUSTER_REASON, batches: CLUSTER_BATCH_REASON });
