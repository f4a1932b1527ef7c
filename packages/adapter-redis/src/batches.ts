/**
 * Batches in the Redis adapter (`capabilities.batches`, core's `adapter/batch.ts`): opening,
 * sealing and reading batch records. The counting is in the scripts that store and settle
 * jobs (`lua/batch-lib.lua`, included by enqueue, enqueue-flow, settle, control-jobs and
 * batch-seal; retire and revive-dead count in place): "this job finished" and "the batch is
 * done, store its callbacks" are one script, so a callback is stored once however many
 * workers settle a batch's last jobs at the same moment.
 *
 * A record's states (batch-lib.lua's `st`): open (`o`, `openBatches`) → running (`r`,
 * `sealBatches`) → finished (`f`, the settle, cancel or seal that leaves nothing pending
 * in a sealed batch). A finished record expires `retentionMs` after it finished, as the
 * finished jobs do; a dead job of the batch revived by `retryDead` lifts that expiry until
 * the batch has nothing pending again.
 *
 * A batch's record is one key outside every queue's hash tag, updated by scripts that also
 * write the queue's keys: only a standalone Redis runs that atomically. On a Cluster the
 * capability is off (`capabilities.ts`) and these methods refuse.
 *
 * @module
 */
import { UnsupportedError, type BatchCallbackKind, type BatchRecord, type BatchState, type JobPayload, type NewBatch } from "@errand/core/adapter";
import type { Cluster, Redis } from "ioredis";

import { compactBody } from "./body.js";
import type { KeyLayout } from "./keys.js";
import type { Lookup } from "./lookup.js";
import { runScript } from "./scripts.js";

const KINDS: readonly BatchCallbackKind[] = ["complete", "success", "failure"];
const STATES: Readonly<Record<string, BatchState>> = { o: "open", r: "running", f: "finished" };

/** What `batch-open.lua` stores of a callback: the fields enqueue.lua takes for a job. */
function callbackEntry(batch: string, kind: BatchCallbackKind, job: JobPayload): string {
  if (job.flow !== undefined) {
    throw new Error(`openBatches: the ${kind} callback of batch ${batch} (job ${job.id}) carries flow control, which a batch callback cannot have`);
  }
  const runAt = Date.parse(job.runAt);
  const enqueuedAt = Date.parse(job.enqueuedAt);
  if (!Number.isFinite(runAt) || !Number.isFinite(enqueuedAt)) {
    throw new Error(`openBatches: the ${kind} callback of batch ${batch} (job ${job.id}) has an invalid runAt or enqueuedAt`);
  }
  const body = compactBody(job, { id: job.id, queue: job.queue, job: job.job, priority: job.priority, enqueuedAt, runAt });
  return JSON.stringify([job.id, job.queue, body, job.job, job.priority, runAt, enqueuedAt]);
}

/** A batch record from its hash (`HGETALL`), `null` when the hash is gone. */
function recordOf(id: string, hash: Record<string, string>): BatchRecord | null {
  const state = hash.st === undefined ? undefined : STATES[hash.st];
  if (state === undefined) return null;
  const callbacks: BatchRecord["callbacks"] = {};
  const enqueuedCallbacks: BatchRecord["enqueuedCallbacks"] = {};
  for (const kind of KINDS) {
    if (hash[`c:${kind}`] !== undefined) callbacks[kind] = true;
    const stored = hash[`e:${kind}`];
    if (stored !== undefined) enqueuedCallbacks[kind] = stored;
  }
  const record: BatchRecord = {
    id,
    state,
    total: Number(hash.tot),
    pending: Number(hash.pen),
    succeeded: Number(hash.suc),
    discarded: Number(hash.dis),
    dead: Number(hash.dead),
    failed: Number(hash.fail),
    callbacks,
    enqueuedCallbacks,
    createdAt: hash.cre ?? "",
  };
  if (hash.desc !== undefined) record.description = hash.desc;
  if (hash.fin !== undefined) record.finishedAt = new Date(Number(hash.fin)).toISOString();
  return record;
}

/** The batch records of one Redis adapter. */
export class Batches {
  constructor(
    private readonly client: Redis | Cluster,
    private readonly keys: KeyLayout,
    private readonly lookup: Lookup,
    /** How long a finished record is kept (the adapter's `retentionMs`). */
    private readonly retentionMs: number,
    /** The status channel stored callbacks are published on, `""` for none. */
    private readonly statusChannel: string,
  ) {}

  /** Stores new batches, open; an id stored already fails the call, naming it, with nothing stored. */
  async open(batches: readonly NewBatch[]): Promise<void> {
    this.refuseOnCluster("openBatches");
    if (batches.length === 0) return;
    const keys: string[] = [];
    const args: (string | number)[] = [this.retentionMs];
    const queues = new Set<string>();
    for (const batch of batches) {
      if (typeof batch.id !== "string" || batch.id.length === 0) throw new Error(`openBatches: a batch id must be a non-empty string, got ${JSON.stringify(batch.id)}`);
      const unknown = Object.keys(batch.callbacks).filter((kind) => !(KINDS as readonly string[]).includes(kind));
      if (unknown.length > 0) throw new Error(`openBatches: batch ${batch.id} has an unknown callback kind ${JSON.stringify(unknown[0])} (complete, success or failure)`);
      keys.push(this.keys.batch(batch.id));
      args.push(batch.id, batch.description === undefined ? "" : `=${batch.description}`, batch.createdAt);
      for (const kind of KINDS) {
        const job = batch.callbacks[kind];
        args.push(job === undefined ? "" : callbackEntry(batch.id, kind, job));
        if (job !== undefined) queues.add(job.queue);
      }
    }
    // The callbacks' queues are known from now on: workers on "*" find them once stored.
    await this.lookup.register(queues);
    await runScript(this.client, "batch-open", keys, args);
  }

  /** Seals batches; those with nothing pending finish, storing their callbacks. */
  async seal(ids: readonly string[]): Promise<void> {
    this.refuseOnCluster("sealBatches");
    if (ids.length === 0) return;
    await runScript(
      this.client,
      "batch-seal",
      ids.map((id) => this.keys.batch(id)),
      [this.keys.base, this.keys.wakeChannel, this.statusChannel, ...ids],
    );
  }

  /** Batch records by id, `null` for an unknown or expired one, in order. */
  async get(ids: readonly string[]): Promise<(BatchRecord | null)[]> {
    this.refuseOnCluster("getBatches");
    if (ids.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.batch(id));
    const replies = (await pipeline.exec()) ?? [];
    return ids.map((id, index) => {
      const [error, hash] = replies[index] ?? [new Error(`getBatches: no reply for batch ${id}`), null];
      if (error) throw error;
      return recordOf(id, hash as Record<string, string>);
    });
  }

  private refuseOnCluster(operation: string): void {
    if (this.client.isCluster) throw new UnsupportedError(`redis adapter: ${operation}: batches need a standalone Redis (capability batches is off on a Redis Cluster)`);
  }
}
