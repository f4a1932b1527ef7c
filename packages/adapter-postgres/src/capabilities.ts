/**
 * What the PostgreSQL adapter can do: everything but ordering groups, with the limits below
 * (the numbers that chose them are beside them). An instance turns two capabilities off by
 * its options: `statusFeed` with `publishStatus: false`, `transactionalEnqueue` with
 * `transactions: "after-commit"` (then with a note saying why, for core's refusal).
 *
 * @module
 */
import { baseCapabilities, type AdapterCapabilities } from "@errand/core/adapter";

/** What PostgreSQL supports, known before any adapter is built. */
export const POSTGRES_CAPABILITIES: AdapterCapabilities = Object.freeze({
  ...baseCapabilities,
  transactionalEnqueue: true,
  durable: true,
  blockingReserve: true,
  wildcardQueues: true,
  maxPriority: 2_147_483_647, // the priority column is an integer (int4)
  // 20k jobs go as four statements, two in flight over the pool (core sends the chunks).
  maxBatchSize: 5000,
  // Reserve and settle cost a round trip, a plan and a commit each, and little per job in
  // the batch: fast jobs drain 1.4× faster with a buffer of 1,000 than of 200 (bench/postgres).
  maxPrefetch: 1000,
  statusFeed: true,
  unique: true,
  concurrencyLimits: true,
  rateLimits: true,
  recurring: true,
  // Migration 014: counts kept by triggers, listing and control tables (list-jobs.ts, control.ts).
  listJobs: true,
  control: true,
  // Migration 019: counted in the enqueue and settle statements, callbacks inserted in their transaction.
  batches: true,
});

/**
 * One instance's capabilities: without `publishes` (status NOTIFYs), no `statusFeed`;
 * without `joins` (the caller's transactions), no `transactionalEnqueue`, and a note why.
 */
export function capabilitiesOf(publishes: boolean, joins: boolean): { capabilities: AdapterCapabilities; notes?: Partial<Record<keyof AdapterCapabilities, string>> } {
  const capabilities = publishes && joins ? POSTGRES_CAPABILITIES : Object.freeze({ ...POSTGRES_CAPABILITIES, statusFeed: publishes, transactionalEnqueue: joins });
  return joins ? { capabilities } : { capabilities, notes: { transactionalEnqueue: 'off: the adapter option transactions is "after-commit"' } };
}
