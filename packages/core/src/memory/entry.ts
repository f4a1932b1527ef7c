/**
 * The shape of a job in core's in-memory store (`store.ts`): what `takeWhere` filters see
 * (`MemoryJob`), and the entry the store keeps in its indexes, lease table and flow gate.
 *
 * @module
 */
import type { StatusRecord } from "../adapter/contract.js";
import type { Gated, KeySlots, Limits } from "./flow.js";

/** A stored job as `takeWhere` filters see it. */
export interface MemoryJob {
  /** The store's id for the job. */
  readonly providerJobId: string;
  /** Errand job id. */
  readonly jobId: string;
  /** Registered name of the job class. */
  readonly job: string;
  /** Its queue (a retry may move it). */
  readonly queue: string;
  /** Its priority, lower first (a retry may change it). */
  readonly priority: number;
  /** When it may run, in ms since the epoch. */
  readonly runAtMs: number;
  /** Its payload's `executions`: runs that ended in a retry before this payload was stored (> 0: it is retrying). */
  readonly executions: number;
}

/** One stored job, as the store keeps it. */
export interface Entry extends MemoryJob {
  body: string;
  queue: string;
  priority: number;
  runAtMs: number;
  executions: number;
  readonly seq: number;
  /** 0 when not leased; the deadline otherwise. */
  leaseUntil: number;
  /** Changes at every lease; a reservation carrying an older one is stale. */
  leaseToken: number;
  /** Times handed out, lease expiries included. */
  deliveries: number;
  /** The job's status record, or its id until it has one. */
  status: StatusRecord | string;
  /** Its concurrency and rate limits, if it has any. */
  limits: Limits | undefined;
  /** The batch it is counted in (`payload.batch.id`, not a callback), else undefined. */
  batch: string | undefined;
  /** The gate's record of the concurrency key whose slot it holds (set from the start, so every entry has one shape). */
  holding: KeySlots<Gated> | undefined;
}
