/**
 * `RedisStatusBatches`: the batches of {@link RedisStatusStore} (`store.batches`), for the SQS
 * adapter: a record and a member hash per batch, counted by the store's `status-enqueued.lua`
 * and `status-settled.lua` in the same script as the status write, and finished there (or
 * at `seal`) with its callbacks recorded as pending sends of the store's flow (layout and
 * rules: `lua/status-batch-lib.lua`).
 *
 * `open` and `seal` are one script call each (`lua/status-batch-*.lua`, defined here as the
 * flow's scripts are, under versioned names); `get` is a pipeline of HGETALLs.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import type { BatchCallbackKind, BatchRecord, BatchState, FlowPending, NewBatch, StatusStoreBatches } from "@errand/core/adapter";
import type { Cluster, Redis } from "ioredis";

import { readLua } from "./scripts.js";

const VERSION = (JSON.parse(readFileSync(fileURLToPath(new URL("../package.json", import.meta.url)), "utf8")) as { version: string }).version;
const SCRIPTS = ["open", "seal"] as const;
type BatchScript = (typeof SCRIPTS)[number];
const KINDS: readonly BatchCallbackKind[] = ["success", "complete", "failure"];

/** Batch ids per script call, so one script never holds Redis for long. */
const MAX_BATCH = 500;

/** What the store hands its batches. */
export interface RedisStatusBatchesOptions {
  client: Redis | Cluster;
  /** `{<prefix>}:` */
  head: string;
  statusChannel: string;
  finishedTtlMs: number;
  deadTtlMs: number;
  /** Throws when the store is closed. */
  check(): void;
}

/** A pending send as the scripts return it. */
type PendingReply = [id: string, token: string, queue: string, body: string, runAt: string, taken: string];

/** A pending send from its script reply. */
export function pendingOf([id, token, queue, body, runAt, taken]: PendingReply): FlowPending {
  return { id, token, queue, body, runAtMs: Number(runAt), taken: Number(taken) };
}

/** Batches in Redis; see the module notes. */
export class RedisStatusBatches implements StatusStoreBatches {
  private readonly routeKey: string;

  constructor(private readonly options: RedisStatusBatchesOptions) {
    this.routeKey = `${options.head}f:o`;
    const client = options.client as unknown as Record<string, unknown>;
    for (const script of SCRIPTS) {
      const name = commandName(script);
      if (typeof client[name] === "function") continue;
      options.client.defineCommand(name, { numberOfKeys: 1, lua: readLua(`status-batch-${script}.lua`) });
    }
  }

  private call<R>(script: BatchScript, args: readonly (string | number)[]): Promise<R> {
    const command = (this.options.client as unknown as Record<string, (...args: (string | number)[]) => Promise<R>>)[commandName(script)]!;
    return command.call(this.options.client, this.routeKey, ...args);
  }

  async open(batches: readonly NewBatch[]): Promise<void> {
    this.options.check();
    for (let start = 0; start < batches.length; start += MAX_BATCH) {
      const records = batches.slice(start, start + MAX_BATCH).map((batch) => {
        const cb: Record<string, unknown> = {};
        for (const [kind, payload] of Object.entries(batch.callbacks)) {
          if (!payload) continue;
          cb[kind] = {
            id: payload.id,
            job: payload.job,
            queue: payload.queue,
            priority: String(payload.priority),
            exe: String(payload.executions),
            run: String(Date.parse(payload.runAt)),
            enq: String(Date.parse(payload.enqueuedAt)),
            body: JSON.stringify(payload),
          };
        }
        return JSON.stringify({ id: batch.id, desc: batch.description ?? null, cre: batch.createdAt, cb });
      });
      await this.call("open", [this.options.head, ...records]);
    }
  }

  async seal(ids: readonly string[]): Promise<FlowPending[]> {
    this.options.check();
    const sends: FlowPending[] = [];
    for (let start = 0; start < ids.length; start += MAX_BATCH) {
      const replies = await this.call<PendingReply[]>("seal", [this.options.head, this.options.finishedTtlMs, this.options.deadTtlMs, this.options.statusChannel, ...ids.slice(start, start + MAX_BATCH)]);
      sends.push(...replies.map(pendingOf));
    }
    return sends;
  }

  async get(ids: readonly string[]): Promise<(BatchRecord | null)[]> {
    this.options.check();
    if (ids.length === 0) return [];
    const pipeline = this.options.client.pipeline();
    for (const id of ids) pipeline.hgetall(`${this.options.head}b:${id}`);
    const results = (await pipeline.exec()) ?? [];
    return ids.map((id, i) => {
      const [error, hash] = results[i]!;
      if (error) throw error;
      return recordOf(id, hash as Record<string, string>);
    });
  }
}

/** A batch record from its hash (`null` when the hash is gone). */
function recordOf(id: string, h: Record<string, string>): BatchRecord | null {
  if (!h.st) return null;
  const callbacks: BatchRecord["callbacks"] = {};
  const enqueuedCallbacks: BatchRecord["enqueuedCallbacks"] = {};
  for (const kind of KINDS) {
    if (h[`cb:${kind}`] !== undefined) callbacks[kind] = true;
    const jobId = h[`ecb:${kind}`];
    if (jobId !== undefined) enqueuedCallbacks[kind] = jobId;
  }
  return {
    id,
    ...(h.desc !== undefined ? { description: h.desc } : {}),
    state: h.st as BatchState,
    total: Number(h.tot),
    pending: Number(h.pen),
    succeeded: Number(h.suc),
    discarded: Number(h.dis),
    dead: Number(h.dead),
    failed: Number(h.fai),
    callbacks,
    enqueuedCallbacks,
    createdAt: h.cre!,
    ...(h.fin !== undefined ? { finishedAt: new Date(Number(h.fin)).toISOString() } : {}),
  };
}

/** The command a batch script is defined under, versioned as the flow's are (`status-flow.ts`). */
function commandName(script: BatchScript): string {
  return `errand_${VERSION.replace(/\W/g, "_")}_status_batch_${script}`;
}
