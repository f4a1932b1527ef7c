/**
 * `RedisStatusStore`: job statuses in Redis, for a backend that keeps none (the SQS adapter),
 * shared by every process that points at the same Redis.
 *
 * One hash per job, `{<prefix>}:s:<id>`, with the fields of the Redis adapter's job hashes
 * (`state`, `exe`, `run`, `enq`, `upd`, `sta`, `fin`, `prog`, `res`, `err`, and `tok` for the
 * current lease, `''` once that delivery settled: see `status-settled.lua`). Every key starts
 * with the hash tag `{<prefix>}`, so all of them sit in one
 * Cluster slot: a batch is one script call that lists its keys in KEYS, on a single Redis or a
 * Cluster alike. (A job id cannot move a key to another slot: only the first `{…}` of a key
 * counts, and that is the prefix's.) The price is that a store's statuses live on one node
 * of a Cluster; use several prefixes to spread several apps.
 *
 * Every write is one Lua script per batch (`lua/status-*.lua`); settling checks each lease and
 * writes in the same script, so no redelivery can slip between the check and the write.
 * Finished statuses get an EXPIRE of `finishedTtlMs` (dead ones `deadTtlMs`) and vanish by
 * themselves: no sweeping.
 *
 * Flow control (`flow`, for the SQS adapter: unique claims, recurring ticks, concurrency
 * slots, parked jobs, rate windows, pending sends) lives under `{<prefix>}:f:…` and in the
 * `pmsg` field of a parked job's status hash: `status-flow.ts`, keys listed in `lua/flow-lib.lua`.
 *
 * Batches (`batches`, for the SQS adapter): a record and a member hash per batch under
 * `{<prefix>}:b:…`, counted by the enqueue and settle scripts themselves, which record a
 * finished batch's callbacks as pending sends of the flow: `status-batches.ts`, keys listed
 * in `lua/status-batch-lib.lua`.
 *
 * The operator's side (`control`, for the SQS adapter: listing, cancel / run-now / abort marks,
 * pauses, beats, throughput) keeps each live job's body in its hash (`body`) and a listing index
 * (`{<prefix>}:i:…`, one sorted set per state, queue and class), written by the same scripts
 * that write statuses (`lua/status-index-lib.lua`); marks and beats: `status-control.ts`.
 *
 * Status feed: each script publishes the ids whose status it changed on `{<prefix>}:status`
 * (JSON `{ ids }`, one message per call; a delete publishes after its UNLINK), and `openFeed`
 * subscribes to it on a pub/sub connection of the store's own, made on first use
 * (`subscriber.ts`, which re-subscribes after a lost connection and then calls `onReconnect`).
 *
 * @module
 */
import {
  ConfigError,
  DEAD_STATUS_TTL_MS,
  type JobPayload,
  type Settlement,
  type StatusFeed,
  type StatusFeedOptions,
  type StatusLease,
  type StatusRecord,
  type StatusStore,
  type StatusDelivery,
  type StatusStoreBatches,
  type StatusStoreControl,
  type StatusStoreFlow,
  type FlowPending,
  type DiagnoseStoreOptions,
  type StoreDiagnosis,
} from "@errand/core/adapter";
import { Redis, type Cluster } from "ioredis";

import { closeClient } from "./connection.js";
import { pingRedis } from "./diagnose.js";
import { defineScripts, queueScript, runScript, type ScriptName } from "./scripts.js";
import { openStatusFeed } from "./status-feed.js";
import { Subscriber, subscriberConnection } from "./subscriber.js";
import { toRecord } from "./status-hash.js";
import { checkStatusStoreOptions } from "./options.js";
import { RedisStatusFlow } from "./status-flow.js";
import { RedisStatusControl } from "./status-control.js";
import { pendingOf, RedisStatusBatches } from "./status-batches.js";

/** Options of {@link RedisStatusStore}. Give `url` or `client`. */
export interface RedisStatusStoreOptions {
  /** Connection URL (`redis://user:pass@host:6379/0`, `rediss://` for TLS). */
  url?: string;
  /** The app's own ioredis `Redis` or `Cluster`; the store defines its scripts on it and does not quit it on close. */
  client?: Redis | Cluster;
  /** Prefix of every key, used as their hash tag (`{errand-status}:s:<id>`). Default `"errand-status"`. */
  prefix?: string;
  /** How long a succeeded or failed status is kept, in ms. Default 24 h. */
  finishedTtlMs?: number;
  /**
   * How long a dead status is kept (listed and counted), in ms, independent of
   * `finishedTtlMs`. Default 14 days, as long as SQS keeps a dead-letter message, so the
   * operator's dead listing shows what the dead-letter queue holds.
   */
  deadTtlMs?: number;
}

type Arg = string | number;
type PendingReply = Parameters<typeof pendingOf>[0];

/** Jobs per script call: bounded so one script never holds Redis for long; larger batches are pipelined. */
const MAX_BATCH = 1000;


/** One settlement as the seven ARGV fields `status-settled.lua` takes per key. */
function settlementArgs(lease: string, settlement: Settlement): Arg[] {
  switch (settlement.outcome) {
    case "succeeded":
      return [lease, "s", settlement.result ?? "", settlement.result === undefined ? "" : "1", "", "", ""];
    case "failed":
      return [lease, "f", JSON.stringify(settlement.error), "", "", "", ""];
    case "dead":
      return [lease, "d", JSON.stringify(settlement.error), "", "", "", settlement.payload ? JSON.stringify(settlement.payload) : ""];
    case "retry":
      return [lease, "r", JSON.stringify(settlement.error), settlement.runAt.getTime(), settlement.payload.queue, settlement.payload.priority, JSON.stringify(settlement.payload)];
    case "released":
      return [lease, "l", "", "", "", "", ""];
  }
}

/** Statuses in Redis (or Redis Cluster), one hash per job; see the module notes for the layout. */
export class RedisStatusStore implements StatusStore {
  /** Every process on the same Redis and prefix sees the same statuses. */
  readonly shared = true;
  /** The client the store's commands run on. */
  readonly client: Redis | Cluster;
  /** The prefix in use (the keys' hash tag). */
  readonly prefix: string;
  /** The channel every write publishes its changed ids on: `{<prefix>}:status`. */
  readonly statusChannel: string;
  /** Flow control for the SQS adapter (`status-flow.ts`; its keys are listed in `lua/flow-lib.lua`). */
  readonly flow: StatusStoreFlow;
  /** The operator's side for the SQS adapter (`status-control.ts`: bodies, listing indexes, marks, beats). */
  readonly control: StatusStoreControl;
  /** Batches for the SQS adapter (`status-batches.ts`; keys listed in `lua/status-batch-lib.lua`). */
  readonly batches: StatusStoreBatches;
  private readonly keyPrefix: string;
  private subscriber: Subscriber | undefined;
  private readonly ownsClient: boolean;
  private readonly finishedTtlMs: number;
  private readonly deadTtlMs: number;
  private closed = false;

  constructor(options: RedisStatusStoreOptions) {
    checkStatusStoreOptions(options);
    const prefix = options.prefix ?? "errand-status";
    // Braces would end the hash tag early (and so split a store over slots); spaces make keys awkward in redis-cli.
    if (!prefix || /[\s{}]/.test(prefix)) {
      throw new ConfigError(`redis status store: prefix ${JSON.stringify(prefix)} must be non-empty, without spaces or braces`);
    }
    // Checked before a connection is made: a refused store leaves nothing open.
    this.finishedTtlMs = options.finishedTtlMs ?? 86_400_000;
    if (!(this.finishedTtlMs >= 1) || !Number.isInteger(this.finishedTtlMs)) {
      throw new ConfigError(`redis status store: finishedTtlMs must be a positive integer (ms), got ${this.finishedTtlMs}`);
    }
    this.deadTtlMs = options.deadTtlMs ?? DEAD_STATUS_TTL_MS;
    if (!(this.deadTtlMs >= 1) || !Number.isInteger(this.deadTtlMs)) {
      throw new ConfigError(`redis status store: deadTtlMs must be a positive integer (ms), got ${this.deadTtlMs}`);
    }
    this.prefix = prefix;
    this.keyPrefix = `{${prefix}}:s:`;
    this.statusChannel = `{${prefix}}:status`;
    if (options.client) {
      this.client = options.client;
      this.ownsClient = false;
    } else if (options.url) {
      this.client = new Redis(options.url);
      this.ownsClient = true;
      // An error event without a listener would crash the process; commands still reject.
      this.client.on("error", () => undefined);
    } else {
      throw new ConfigError("redis status store: give { url } or your own ioredis { client }");
    }
    defineScripts(this.client);
    this.flow = new RedisStatusFlow({
      client: this.client,
      head: `{${prefix}}:`,
      statusChannel: this.statusChannel,
      finishedTtlMs: this.finishedTtlMs,
      check: () => this.check(),
    });
    this.batches = new RedisStatusBatches({
      client: this.client,
      head: `{${prefix}}:`,
      statusChannel: this.statusChannel,
      finishedTtlMs: this.finishedTtlMs,
      deadTtlMs: this.deadTtlMs,
      check: () => this.check(),
    });
    this.control = new RedisStatusControl({
      client: this.client,
      head: `{${prefix}}:`,
      statusChannel: this.statusChannel,
      finishedTtlMs: this.finishedTtlMs,
      deadTtlMs: this.deadTtlMs,
      started: (items) => this.start(items),
      check: () => this.check(),
    });
  }

  /** The hash holding a job's status. */
  key(id: string): string {
    return this.keyPrefix + id;
  }

  private check(): void {
    if (this.closed) throw new Error("the redis status store is closed");
  }

  /**
   * Runs `script` over `items`: one call per `MAX_BATCH` items (pipelined when there are
   * several), each with `head` then `argsOf(item)` per item. Returns each call's reply.
   */
  private async batch<I, R>(script: ScriptName, items: readonly I[], idOf: (item: I) => string, head: readonly Arg[], argsOf: (item: I) => Arg[]): Promise<R[]> {
    this.check();
    const calls: { keys: string[]; args: Arg[] }[] = [];
    for (let start = 0; start < items.length; start += MAX_BATCH) {
      const chunk = items.slice(start, start + MAX_BATCH);
      const args: Arg[] = [...head];
      for (const item of chunk) args.push(...argsOf(item));
      calls.push({ keys: chunk.map((item) => this.key(idOf(item))), args });
    }
    if (calls.length === 0) return [];
    if (calls.length === 1) return [await runScript<R>(this.client, script, calls[0]!.keys, calls[0]!.args)];
    const pipeline = this.client.pipeline();
    for (const call of calls) queueScript(pipeline, script, call.keys, call.args);
    return unwrap<R>(await pipeline.exec());
  }

  async enqueued(payloads: readonly JobPayload[]): Promise<void> {
    await this.batch("status-enqueued", payloads, (p) => p.id, [this.statusChannel, this.keyPrefix], (p) => [
      p.job,
      p.queue,
      p.priority,
      p.executions,
      Date.parse(p.runAt),
      Date.parse(p.enqueuedAt),
      // The body the SQS adapter sends is the same text (`JSON.stringify(payload)`).
      JSON.stringify(p),
      // A batch's callback is not counted in it.
      p.batch && p.batch.callback === undefined ? p.batch.id : "",
    ]);
  }

  async started(leases: readonly StatusLease[]): Promise<void> {
    await this.start(leases.map((l) => ({ ...l, runAt: "" })));
  }

  /** Records deliveries (`status-started.lua`); answers the positions of the void ones. */
  private async start(items: readonly StatusDelivery[]): Promise<Set<number>> {
    const replies = await this.batch<StatusDelivery, [number, number[]]>("status-started", items, (l) => l.id, [this.finishedTtlMs, this.statusChannel, this.keyPrefix], (l) => [l.lease, l.runAt]);
    const void_ = new Set<number>();
    replies.forEach(([, positions], chunk) => {
      for (const position of positions) void_.add(chunk * MAX_BATCH + Number(position) - 1);
    });
    return void_;
  }

  async stale(leases: readonly StatusLease[]): Promise<Set<string>> {
    // Chunks are answered in order: a position in chunk n is offset by n · MAX_BATCH.
    const replies = await this.batch<StatusLease, number[]>("status-stale", leases, (l) => l.id, [], (l) => [l.lease]);
    const stale = new Set<string>();
    replies.forEach((positions, chunk) => {
      for (const position of positions) stale.add(leases[chunk * MAX_BATCH + Number(position) - 1]!.id);
    });
    return stale;
  }

  async settled(items: readonly (StatusLease & { settlement: Settlement })[]): Promise<FlowPending[]> {
    const replies = await this.batch<StatusLease & { settlement: Settlement }, [number, PendingReply[]]>("status-settled", items, (item) => item.id, [this.finishedTtlMs, this.statusChannel, this.keyPrefix, this.deadTtlMs], (item) => settlementArgs(item.lease, item.settlement));
    // The callbacks of batches these settlements finished (`lua/status-batch-lib.lua`).
    return replies.flatMap(([, sends]) => sends.map(pendingOf));
  }

  async progress(updates: readonly { id: string; fraction: number; message?: string }[]): Promise<void> {
    await this.batch("status-progress", updates, (u) => u.id, [this.statusChannel, this.keyPrefix], (u) =>
      [JSON.stringify(u.message === undefined ? { fraction: u.fraction } : { fraction: u.fraction, message: u.message })],
    );
  }

  async get(ids: readonly string[]): Promise<(StatusRecord | null)[]> {
    this.check();
    if (ids.length === 0) return [];
    // Plain reads need no script: one pipelined HGETALL per id, one round trip (one slot on a Cluster).
    const pipeline = this.client.pipeline();
    for (const id of ids) pipeline.hgetall(this.key(id));
    const hashes = unwrap<Record<string, string>>(await pipeline.exec());
    const now = Date.now();
    return ids.map((id, index) => toRecord(id, hashes[index]!, now));
  }

  async delete(ids: readonly string[]): Promise<void> {
    this.check();
    // One script per chunk (each job's index entry goes with it): every key is in one slot.
    await this.batch("status-delete", ids, (id) => id, [this.statusChannel, this.keyPrefix], () => []);
  }

  /**
   * Reports the ids of statuses any process changes through a store on this Redis and
   * prefix; calls `onReconnect` once the channel is subscribed again after a lost connection.
   */
  async openFeed(options: StatusFeedOptions): Promise<StatusFeed> {
    this.check();
    this.subscriber ??= new Subscriber(subscriberConnection(this.client));
    return openStatusFeed(this.subscriber, this.statusChannel, options);
  }

  /** One PING, bounded by `timeoutMs` (`diagnose.ts`); the store has no layout to upgrade. */
  async diagnose({ timeoutMs }: DiagnoseStoreOptions): Promise<StoreDiagnosis> {
    return { latencyMs: await pingRedis(this.client, timeoutMs) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.subscriber?.close();
    if (this.ownsClient) await closeClient(this.client);
  }
}

/** The replies of a pipeline, or its first error. */
function unwrap<R>(results: [Error | null, unknown][] | null): R[] {
  const replies: R[] = [];
  for (const [error, reply] of results ?? []) {
    if (error) throw error;
    replies.push(reply as R);
  }
  return replies;
}

