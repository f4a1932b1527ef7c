/**
 * `RedisStatusFlow`: the flow control of {@link RedisStatusStore} (`store.flow`), for the SQS
 * adapter: unique claims, recurring ticks, concurrency slots, parked jobs, rate windows and
 * the pending sends that close the gap between this store and SQS (see `StatusStoreFlow`).
 *
 * Each method is one Lua script per call (`lua/status-flow-*.lua`, each prefixed with
 * `lua/status-flow-lib.lua`, which lists the keys: all under the store's hash tag `{<prefix>}`, so one
 * Cluster slot, as the statuses). The scripts build their key names from that head instead of
 * taking them all in KEYS: which keys a step touches (a lock, a task, a slot set) is only
 * known from the items inside it; KEYS[1] (the pending sends' hash) routes the call to the
 * slot's node on a Cluster. Batches are cut at 500 items so one script never holds Redis for
 * long (the status scripts take 1000 single-key items; these touch up to five keys each).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

import type {
  FlowAcquire,
  FlowClaim,
  FlowClaimResult,
  FlowDecision,
  FlowPending,
  FlowRelease,
  RecurringRecord,
  StatusStoreFlow,
} from "@errand/core/adapter";
import type { Cluster, Redis } from "ioredis";

import { readLua } from "./scripts.js";

const LUA_DIR = fileURLToPath(new URL("../lua/", import.meta.url));
const VERSION = (JSON.parse(readFileSync(fileURLToPath(new URL("../package.json", import.meta.url)), "utf8")) as { version: string }).version;
const SCRIPTS = ["claim", "confirm", "undo", "acquire", "extend", "release", "sweep"] as const;
type FlowScript = (typeof SCRIPTS)[number];

/** Items per script call. */
const MAX_BATCH = 500;

type Arg = string | number;

/** What the store hands its flow: the client, the key head and channel, the finished ttl. */
export interface RedisStatusFlowOptions {
  client: Redis | Cluster;
  /** `{<prefix>}:` */
  head: string;
  statusChannel: string;
  finishedTtlMs: number;
  /** Throws when the store is closed. */
  check(): void;
}

/** A pending send as the scripts return it. */
type PendingReply = [id: string, token: string, queue: string, body: string, runAt: string, taken: string];

function pending([id, token, queue, body, runAt, taken]: PendingReply): FlowPending {
  return { id, token, queue, body, runAtMs: Number(runAt), taken: Number(taken) };
}

/** Flow control in Redis; see the module notes. */
export class RedisStatusFlow implements StatusStoreFlow {
  /**
   * The one key each call names (KEYS[1], the pending sends): on a Cluster it routes the call
   * to the node of the store's slot, where every key the script builds lives.
   */
  private readonly routeKey: string;

  constructor(private readonly options: RedisStatusFlowOptions) {
    this.routeKey = `${options.head}f:o`;
    const lib = readFileSync(`${LUA_DIR}status-flow-lib.lua`, "utf8");
    const client = options.client as unknown as Record<string, unknown>;
    for (const script of SCRIPTS) {
      const name = commandName(script);
      if (typeof client[name] === "function") continue;
      options.client.defineCommand(name, { numberOfKeys: 1, lua: `${lib}\n${readLua(`status-flow-${script}.lua`)}` });
    }
  }

  /** Runs a script over items, `MAX_BATCH` per call, each call with `head` then `argsOf` per item. */
  private async run<I, R>(script: FlowScript, items: readonly I[], head: readonly Arg[], argsOf: (item: I) => Arg[]): Promise<R[]> {
    this.options.check();
    const replies: R[] = [];
    for (let start = 0; start < items.length; start += MAX_BATCH) {
      const args: Arg[] = [this.options.head, ...head];
      for (const item of items.slice(start, start + MAX_BATCH)) args.push(...argsOf(item));
      const command = (this.options.client as unknown as Record<string, (...args: Arg[]) => Promise<R>>)[commandName(script)]!;
      replies.push(await command.call(this.options.client, this.routeKey, ...args));
    }
    return replies;
  }

  async claim(items: readonly FlowClaim[]): Promise<FlowClaimResult[]> {
    const replies = await this.run<FlowClaim, [number, string, string?][]>("claim", items, [this.options.statusChannel], ({ payload, body }) => {
      const { unique, recurring } = payload.flow ?? {};
      return [
        payload.id,
        payload.job,
        payload.queue,
        payload.priority,
        payload.executions,
        Date.parse(payload.runAt),
        Date.parse(payload.enqueuedAt),
        body,
        unique?.key ?? "",
        unique?.while ?? "",
        unique?.forMs ?? "",
        recurring?.task ?? "",
        recurring ? Date.parse(recurring.tick) : "",
        randomBytes(6).toString("hex"),
      ];
    });
    return replies.flat().map((reply, i) => {
      if (Number(reply[0]) === 0) return { claimed: false, jobId: reply[1] };
      const { payload, body } = items[i]!;
      return { claimed: true, pending: { id: payload.id, token: reply[1], queue: payload.queue, body, runAtMs: Date.parse(payload.runAt), taken: Number(reply[2]) } };
    });
  }

  async confirm(items: readonly { id: string; token: string }[]): Promise<void> {
    await this.run("confirm", items, [], (item) => [item.id, item.token]);
  }

  async undo(items: readonly { id: string; token: string; taken: number }[]): Promise<void> {
    await this.run("undo", items, [this.options.statusChannel], (item) => [item.id, item.token, item.taken]);
  }

  async acquire(items: readonly FlowAcquire[]): Promise<FlowDecision[]> {
    const replies = await this.run<FlowAcquire, [string, string?][]>("acquire", items, [this.options.statusChannel], (item) => [
      item.id,
      item.lease,
      item.leaseMs,
      item.message,
      item.queue,
      item.body,
      item.concurrency?.key ?? "",
      item.concurrency?.limit ?? "",
      item.rateLimit?.key ?? "",
      item.rateLimit?.limit ?? "",
      item.rateLimit?.perMs ?? "",
    ]);
    return replies.flat().map(([outcome, until]): FlowDecision => {
      if (outcome === "l") return { outcome: "leased" };
      if (outcome === "p") return { outcome: "parked" };
      return { outcome: "deferred", untilMs: Number(until) };
    });
  }

  async extend(items: readonly { id: string; concurrencyKey: string }[], leaseMs: number): Promise<string[]> {
    const replies = await this.run<{ id: string; concurrencyKey: string }, string[]>("extend", items, [leaseMs], (item) => [item.id, item.concurrencyKey]);
    return replies.flat();
  }

  async release(items: readonly FlowRelease[]): Promise<FlowPending[]> {
    const replies = await this.run<FlowRelease, PendingReply[]>("release", items, [this.options.finishedTtlMs], (item) => [item.id, item.concurrencyKey ?? "", item.uniqueKey ?? ""]);
    return replies.flat().map(pending);
  }

  async sweep({ claimTimeoutMs, limit }: { claimTimeoutMs: number; limit: number }): Promise<FlowPending[]> {
    this.options.check();
    const command = (this.options.client as unknown as Record<string, (...args: Arg[]) => Promise<PendingReply[]>>)[commandName("sweep")]!;
    return (await command.call(this.options.client, this.routeKey, this.options.head, claimTimeoutMs, limit)).map(pending);
  }

  async recurringState(tasks: readonly string[]): Promise<(RecurringRecord | null)[]> {
    this.options.check();
    if (tasks.length === 0) return [];
    const pipeline = this.options.client.pipeline();
    for (const task of tasks) pipeline.hmget(`${this.options.head}f:r:${task}`, "tick", "id");
    const replies = unwrap(await pipeline.exec()) as [string | null, string | null][];
    return tasks.map((task, i) => {
      const [tick, id] = replies[i]!;
      return tick && id ? { task, lastTick: new Date(Number(tick)), jobId: id } : null;
    });
  }

  async counts(queues: readonly string[]): Promise<{ parked: number; deferred: number }[]> {
    this.options.check();
    if (queues.length === 0) return [];
    const pipeline = this.options.client.pipeline();
    const now = Date.now();
    for (const queue of queues) {
      pipeline.hget(`${this.options.head}f:pc`, queue);
      pipeline.zcount(`${this.options.head}f:d:${queue}`, `(${now}`, "+inf");
    }
    const replies = unwrap(await pipeline.exec());
    return queues.map((_, i) => ({ parked: Math.max(0, Number(replies[2 * i] ?? 0)), deferred: Number(replies[2 * i + 1] ?? 0) }));
  }
}

/** The replies of a pipeline, or its first error. */
function unwrap(results: [Error | null, unknown][] | null): unknown[] {
  return (results ?? []).map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

/**
 * The command a flow script is defined under, carrying the package version (as `scripts.ts`
 * does) and named after its file (`status_flow_sweep`). Not `flow_<script>`: `scripts.ts`
 * defines the adapter's own `flow-sweep.lua` as `flow_sweep` on the same client (the store's
 * status scripts come from there), and a name already defined is not defined again — the
 * store's sweep then ran the adapter's script and failed with WRONGTYPE.
 */
function commandName(script: FlowScript): string {
  return `errand_${VERSION.replace(/\W/g, "_")}_status_flow_${script}`;
}
