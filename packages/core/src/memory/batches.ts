/**
 * Batches in core's in-memory store (`capabilities.batches`; the contract is
 * `adapter/batch.ts`). One record per batch, counted by the store in the same synchronous
 * step that stores, settles or revives a job, so "this job finished" and "the batch is done,
 * store its callbacks" cannot be split by another caller: JavaScript runs one of them at a
 * time, and the store never awaits in between.
 *
 * A record's life:
 *
 * - **open** (`open`): every count 0. A job stored with `batch: { id }` (no `callback`)
 *   adds 1 to `total` and `pending` (`stored`). Jobs finishing are counted, but an open
 *   batch never finishes: its creator may still be enqueueing.
 * - **running** (`seal`): the creator has enqueued everything. A batch with nothing pending
 *   finishes at once (an empty batch fires its callbacks here).
 * - **finished**: the step that brings `pending` to 0 while sealed stores the callbacks
 *   (`complete`; `success` when no job was discarded or is dead, `failure` otherwise)
 *   through the store's insert, given to the constructor, and records their job ids. Each
 *   kind is stored at most once in the record's life.
 *
 * Counting (`finished`, `retried`, `revived`): succeeded/discarded/dead each −1 `pending`;
 * a retry +1 `failed`; a dead job revived by `retryDead` −1 `dead`, +1 `pending`, and when
 * it then finishes, a `success` callback not yet stored is, if nothing is discarded or dead
 * any more (Sidekiq Pro's rule for a dead job retried by hand). A cancelled job (operator's
 * `changeJobs`, `cancelled`) is counted as discarded: it will not run, and its batch must
 * still finish.
 *
 * Retention: a finished record is dropped after the store's finished-status TTL (default
 * 24 h), oldest first, checked when a batch is opened — as long as finished jobs are kept.
 *
 * @module
 */
import type { BatchCallbackKind, BatchRecord, NewBatch } from "../adapter/batch.js";
import type { JobPayload } from "../adapter/contract.js";

/** How a batch job's run ended, as the store's settle sees it. */
export type BatchOutcome = "succeeded" | "discarded" | "dead";

interface Held {
  record: BatchRecord;
  sealed: boolean;
  payloads: NewBatch["callbacks"];
  /** When it finished, in ms (0 until then), for retention. */
  finishedMs: number;
}

const KINDS: readonly BatchCallbackKind[] = ["complete", "success", "failure"];

/** The batch records of one in-memory store. */
export class MemoryBatches {
  private readonly held = new Map<string, Held>();
  /** Finished batch ids in finish order, for retention. */
  private finishedOrder: string[] = [];
  /** Told of each finishing batch's callback jobs as they are stored (the test adapter records them). */
  onCallbacksStored: ((payloads: readonly JobPayload[]) => void) | undefined = undefined;

  /**
   * @param ttlMs how long a finished record is kept.
   * @param store stores a finishing batch's callback jobs and wakes waiting reserves (the store's insert).
   */
  constructor(
    private readonly ttlMs: number,
    private readonly store: (payloads: readonly JobPayload[], now: number) => void,
  ) {}

  /** Stores new batches, open. An id already held is an error naming it (nothing stored then). */
  open(batches: readonly NewBatch[], now: number): void {
    this.expire(now);
    const seen = new Set<string>();
    for (const batch of batches) {
      if (typeof batch.id !== "string" || batch.id.length === 0) throw new Error(`openBatches: a batch id must be a non-empty string, got ${JSON.stringify(batch.id)}`);
      if (this.held.has(batch.id) || seen.has(batch.id)) throw new Error(`openBatches: batch ${batch.id} already exists`);
      seen.add(batch.id);
    }
    for (const batch of batches) {
      const callbacks: BatchRecord["callbacks"] = {};
      for (const kind of KINDS) if (batch.callbacks[kind] !== undefined) callbacks[kind] = true;
      const record: BatchRecord = {
        id: batch.id,
        state: "open",
        total: 0,
        pending: 0,
        succeeded: 0,
        discarded: 0,
        dead: 0,
        failed: 0,
        callbacks,
        enqueuedCallbacks: {},
        createdAt: batch.createdAt,
      };
      if (batch.description !== undefined) record.description = batch.description;
      this.held.set(batch.id, { record, sealed: false, payloads: { ...batch.callbacks }, finishedMs: 0 });
    }
  }

  /** Throws, naming it, if a payload names a batch not held; call before storing any. */
  check(payloads: readonly JobPayload[]): void {
    for (const payload of payloads) {
      const id = payload.batch?.id;
      if (id !== undefined && payload.batch!.callback === undefined && !this.held.has(id)) {
        throw new Error(`enqueue: job ${payload.id} names batch ${id}, which does not exist (or expired)`);
      }
    }
  }

  /** Counts a stored job of batch `id` (checked by {@link check}). */
  stored(id: string): void {
    const held = this.held.get(id)!;
    held.record.total++;
    held.record.pending++;
  }

  /** Marks batches sealed; stores the callbacks of those that finish now. Unknown ids: an error naming the first, nothing sealed. */
  seal(ids: readonly string[], now: number): void {
    for (const id of ids) if (!this.held.has(id)) throw new Error(`sealBatches: batch ${id} does not exist (or expired)`);
    const callbacks: JobPayload[] = [];
    for (const id of ids) {
      const held = this.held.get(id)!;
      if (held.sealed) continue;
      held.sealed = true;
      held.record.state = "running";
      this.finishIfDone(held, now, callbacks);
    }
    this.storeCallbacks(callbacks, now);
  }

  /** Counts a finished job of batch `id`; stores the callbacks of the batch if it finishes now. */
  finished(id: string, outcome: BatchOutcome, now: number): void {
    const held = this.held.get(id);
    if (!held) return;
    held.record.pending--;
    held.record[outcome]++;
    const callbacks: JobPayload[] = [];
    this.finishIfDone(held, now, callbacks);
    this.storeCallbacks(callbacks, now);
  }

  /** Counts jobs an operator cancelled out of their batches as discarded (they will not run). */
  cancelled(jobs: readonly { batch: string | undefined }[], now: number): void {
    for (const job of jobs) if (job.batch !== undefined) this.finished(job.batch, "discarded", now);
  }

  /** Counts a failed run that will be retried. */
  retried(id: string): void {
    const held = this.held.get(id);
    if (held) held.record.failed++;
  }

  /** A dead job of batch `id` moved back to pending by `retryDead`. */
  revived(id: string): void {
    const held = this.held.get(id);
    if (!held || held.record.dead === 0) return;
    held.record.dead--;
    held.record.pending++;
  }

  /** Records by id, copies, `null` for an unknown or expired id. */
  get(ids: readonly string[]): (BatchRecord | null)[] {
    return ids.map((id) => {
      const held = this.held.get(id);
      if (!held) return null;
      const record = held.record;
      return { ...record, callbacks: { ...record.callbacks }, enqueuedCallbacks: { ...record.enqueuedCallbacks } };
    });
  }

  /** Forgets every batch. */
  clear(): void {
    this.held.clear();
    this.finishedOrder = [];
  }

  /** Stores a finishing batch's callback jobs, then tells {@link onCallbacksStored}. */
  private storeCallbacks(payloads: readonly JobPayload[], now: number): void {
    if (payloads.length === 0) return;
    this.store(payloads, now);
    this.onCallbacksStored?.(payloads);
  }

  private finishIfDone(held: Held, now: number, out: JobPayload[]): void {
    const record = held.record;
    if (!held.sealed || record.pending > 0) return;
    if (record.state !== "finished") {
      record.state = "finished";
      record.finishedAt = new Date(now).toISOString();
    }
    // Again after a revived job finished: retention counts from the last finish.
    held.finishedMs = now;
    this.finishedOrder.push(record.id);
    const clean = record.discarded + record.dead === 0;
    for (const kind of KINDS) {
      const payload = held.payloads[kind];
      if (payload === undefined || record.enqueuedCallbacks[kind] !== undefined) continue;
      if ((kind === "success" && !clean) || (kind === "failure" && clean)) continue;
      record.enqueuedCallbacks[kind] = payload.id;
      out.push(payload);
    }
  }

  /** Drops finished records older than the TTL, oldest first. */
  private expire(now: number): void {
    let drop = 0;
    while (drop < this.finishedOrder.length) {
      const held = this.held.get(this.finishedOrder[drop]!);
      // A record with a revived job pending leaves the order; it comes back when it finishes again.
      if (held && held.record.pending === 0) {
        if (now - held.finishedMs < this.ttlMs) break;
        this.held.delete(held.record.id);
      }
      drop++;
    }
    if (drop > 0) this.finishedOrder = this.finishedOrder.slice(drop);
  }
}
