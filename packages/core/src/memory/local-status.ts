/**
 * `LocalStatusStore`: the status store kept in this process's memory (`MemoryStatusStore`),
 * with the lease rules every status store follows (see `adapter/status-store.ts`): a stale
 * delivery's writes change nothing, and a settled delivery leaves an ended lease behind.
 *
 * @module
 */
import type { JobPayload, Settlement, StatusFeed, StatusFeedOptions, StatusRecord } from "../adapter/contract.js";
import type { StatusLease, StatusStore } from "../adapter/status-store.js";
import { DEAD_STATUS_TTL_MS } from "../adapter/status-store-control.js";
import { MemoryStatusStore, type BoundedStatusOptions } from "./status.js";

/** The lease of a job whose last delivery was settled: no delivery's token (they are never empty). */
const ENDED = "";

/**
 * Live statuses a {@link LocalStatusStore} keeps by default. A process that only enqueues
 * (a web app in front of SQS workers) records every job it sends and never sees one finish:
 * without a bound its memory grew ~1.3 KB per job sent (bench/soak, 140k jobs: 165 → 347 MB
 * RSS). 100,000 keeps the statuses of a large backlog run by this same process.
 */
export const LOCAL_MAX_LIVE = 100_000;

/**
 * Statuses in this process's memory: for development, tests and single-process apps. It
 * keeps at most `maxLive` unfinished statuses (default {@link LOCAL_MAX_LIVE}), the oldest
 * enqueued dropped first; give jobs run by other processes a shared status store. Succeeded
 * and failed statuses are kept `finishedTtlMs` (24 h), dead ones `deadTtlMs`
 * ({@link DEAD_STATUS_TTL_MS}, 14 days: as long as SQS keeps a dead-letter message).
 */
export class LocalStatusStore implements StatusStore {
  /** Statuses live in this process only: an adapter using this store says `localStatus`. */
  readonly shared = false;
  private readonly records: MemoryStatusStore;
  private readonly leases = new Map<string, string>();

  constructor(options: BoundedStatusOptions = {}) {
    this.records = new MemoryStatusStore({ maxLive: LOCAL_MAX_LIVE, deadTtlMs: DEAD_STATUS_TTL_MS, ...options });
  }

  async enqueued(payloads: readonly JobPayload[]): Promise<void> {
    for (const payload of payloads) {
      this.records.enqueued(payload);
      this.leases.delete(payload.id);
    }
  }

  async started(leases: readonly StatusLease[]): Promise<void> {
    for (const { id, lease } of leases) {
      this.records.started(id);
      this.leases.set(id, lease);
    }
  }

  async stale(leases: readonly StatusLease[]): Promise<Set<string>> {
    return new Set(leases.filter(({ id, lease }) => this.isStale(id, lease)).map(({ id }) => id));
  }

  private isStale(id: string, lease: string): boolean {
    const current = this.leases.get(id);
    if (current !== undefined) return current !== lease;
    return this.records.get(id)?.finishedAt !== undefined;
  }

  async settled(items: readonly (StatusLease & { settlement: Settlement })[]): Promise<void> {
    // Checked item by item: a batch may settle the same delivery twice, the second is stale.
    for (const { id, lease, settlement } of items) {
      if (this.isStale(id, lease)) continue;
      this.records.settled(id, settlement);
      // A job still live keeps an ended lease, not none, so a late settlement of an earlier
      // delivery stays stale (module notes); a finished one is stale by being finished, and
      // keeps no entry here that would outlive its evicted record.
      const record = this.records.get(id);
      if (record && record.finishedAt === undefined) this.leases.set(id, ENDED);
      else this.leases.delete(id);
    }
  }

  async progress(updates: readonly { id: string; fraction: number; message?: string }[]): Promise<void> {
    for (const update of updates) this.records.progress(update.id, update.fraction, update.message);
  }

  async get(ids: readonly string[]): Promise<(StatusRecord | null)[]> {
    return ids.map((id) => this.records.get(id));
  }

  /** Reports changed statuses of this process (the only ones this store knows), in microtask batches. */
  openFeed(options: StatusFeedOptions): Promise<StatusFeed> {
    return this.records.events.open(options);
  }

  async delete(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      this.records.delete(id);
      this.leases.delete(id);
    }
  }

  async close(): Promise<void> {}
}
