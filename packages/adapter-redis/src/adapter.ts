/**
 * The Redis adapter. Every step that touches more than one key is one Lua script from
 * `lua/` (see `scripts.ts`), run on the keys of one queue, which share a `{queue}` hash tag
 * so the same code runs on Redis Cluster (`keys.ts` has the layout).
 *
 * Hot path: an enqueue is one script per queue per batch; a reserve is one script per
 * queue tried, which first promotes due scheduled jobs and retries and puts back jobs
 * whose lease expired, then pops a batch; a settle is one script per queue per batch,
 * which also trims finished jobs past retention. No timer runs while nobody works: upkeep
 * rides on reserve and settle. Idle reserves wait on a pub/sub channel (`wake.ts`) and look
 * again when the next scheduled job, retry or lease deadline comes due.
 *
 * Every state change is published on `<prefix>:status` by the script that makes it
 * (`publishStatus`); `openStatusFeed` subscribes to it (`status-feed.ts`) on the same pub/sub
 * connection as the wake-ups (`subscriber.ts`): one connection per adapter.
 *
 * Batches (`batches.ts`) are counted by the same enqueue and settle scripts, which store a
 * finished batch's callbacks in the same step (`lua/batch-lib.lua`).
 *
 * Flow control (unique, concurrency and rate limits, recurring ticks) rides on the same
 * scripts behind one check per call (a queue's `flow` marker, `keys.ts`); batches that carry
 * flow are stored by `flow.ts`, which also runs the safety sweep of parked jobs (from
 * reserve, once a second) and answers `recurringState`.
 *
 * This file holds the hot path and assembles the rest: the connection in `connection.ts`,
 * one queue's plain enqueue script calls in `enqueuing.ts`, the queue list and lookups by id
 * are in `lookup.ts`, the counts per queue in `queue-counts.ts`, the dead set (list, revive,
 * purge) in `dead-set.ts`, the operator's listing in `list-jobs.ts` and actions, pauses and
 * heartbeats in `control.ts`, the capabilities (standalone and Cluster) in `capabilities.ts`.
 *
 * @module
 */
import { randomBytes } from "node:crypto";

import {
  MigrationGate,
  ConfigError,
  ConnectionError,
  groupBy,
  type Adapter,
  type AdapterCapabilities,
  type BatchRecord,
  type ChangeJobsOptions,
  type DeadJob, type DiagnoseOptions, type Diagnosis,
  type EnqueueOptions,
  type EnqueueResult,
  type ExtendLeaseOptions,
  type GetBatchesOptions,
  type GetStatusOptions,
  type HeartbeatOptions,
  type HeartbeatResult,
  type JobPage,
  type ListDeadOptions,
  type ListJobsOptions,
  type ListQueuesOptions,
  type MigrateResult,
  type OpenBatchesOptions,
  type PauseQueuesOptions,
  type PurgeDeadOptions,
  type QueueInfo,
  type RecurringRecord,
  type RecurringStateOptions,
  type Reservation,
  type ReserveOptions,
  type RetryDeadOptions,
  type SealBatchesOptions,
  type SetProgressOptions,
  type Settlement,
  type SettleOptions,
  type StatusFeed,
  type StatusFeedOptions,
  type StatusRecord,
  type WorkerRecord,
} from "@errand/core/adapter";
import type { Cluster, Redis } from "ioredis";

import { Batches } from "./batches.js";
import { CLUSTER_CAPABILITIES, CLUSTER_REASONS, REDIS_CAPABILITIES, type CapabilityNotes } from "./capabilities.js";
import { closeClient, connect } from "./connection.js";
import { Control } from "./control.js";
import { DeadSet } from "./dead-set.js";
import { diagnoseLayout, pingRedis, redisTarget } from "./diagnose.js";
import { batchChecks, enqueueQueue, type EnqueueTarget } from "./enqueuing.js";
import { Flow, hasFlow } from "./flow.js";
import { KeyLayout } from "./keys.js";
import { JobLister } from "./list-jobs.js";
import { Lookup } from "./lookup.js";
import { listQueues } from "./queue-counts.js";
import { upgradeLayout } from "./migrate.js";
import { handleOf, readReserveReply } from "./reserve-reply.js";
import { defineScripts, runScript } from "./scripts.js";
import { pushSettlement } from "./settle-args.js";
import { openStatusFeed } from "./status-feed.js";
import { Subscriber, subscriberConnection } from "./subscriber.js";
import { WakeChannel } from "./wake.js";
import { checkAdapterOptions, type RedisAdapterOptions } from "./options.js";

export type { RedisAdapterOptions } from "./options.js";

/** Jobs in Redis or Redis Cluster. */
export class RedisAdapter implements Adapter {
  /** What a standalone Redis supports, known before any adapter is built. */
  static readonly capabilities: AdapterCapabilities = REDIS_CAPABILITIES;
  /** What a Redis Cluster supports: no unique, concurrency or rate limits, no batches (`capabilities.ts`). */
  static readonly clusterCapabilities: AdapterCapabilities = CLUSTER_CAPABILITIES;
  /**
   * Why a capability is off, for core's refusal (`UnsupportedError`) to say: on a Redis
   * Cluster, unique, concurrency and rate limits, and batches.
   */
  readonly capabilityNotes: CapabilityNotes;
  readonly name = "redis";
  /** The class's capabilities; without `publishStatus`, no `statusFeed`. */
  readonly capabilities: AdapterCapabilities;
  /**
   * Reports the ids of jobs whose status changed, from any process, over the adapter's
   * pub/sub connection (`<prefix>:status`); calls `onReconnect` once the channel is
   * subscribed again after a lost connection. Absent with `publishStatus: false`.
   */
  readonly openStatusFeed?: (options: StatusFeedOptions) => Promise<StatusFeed>;
  /** The client Errand's commands run on. */
  readonly client: Redis | Cluster;
  /** The key layout in use. */
  readonly keys: KeyLayout;
  private readonly ownsClient: boolean;
  private readonly subscriber: Subscriber;
  private readonly wake: WakeChannel;
  private readonly retentionMs: number;
  private readonly maxFinished: number;
  private readonly statusChannel: string;
  /** Where plain enqueues go (`enqueuing.ts`). */
  private readonly store: EnqueueTarget;
  private readonly pollMs: number;
  private readonly lookup: Lookup;
  private readonly dead: DeadSet;
  private readonly flow: Flow;
  private readonly control: Control;
  private readonly lister: JobLister;
  private readonly batches: Batches;
  private readonly layout: MigrationGate;
  /** Whether concurrency limits run here (standalone Redis): reserves then run the safety sweep. */
  private readonly sweeps: boolean;
  private readonly tokenPrefix = randomBytes(6).toString("base64url");
  private tokenSeq = 0;
  private closed = false;

  constructor(options: RedisAdapterOptions) {
    checkAdapterOptions(options);
    const prefix = options.prefix ?? "errand";
    if (!prefix || /[\s{}]/.test(prefix)) {
      throw new ConfigError(`redis adapter: prefix ${JSON.stringify(prefix)} must be non-empty, without spaces or braces`);
    }
    this.keys = new KeyLayout(prefix);
    const connection = connect(options);
    this.client = connection.client;
    this.ownsClient = connection.ownsClient;
    defineScripts(this.client);
    this.retentionMs = options.retentionMs ?? 86_400_000;
    this.maxFinished = options.maxFinished ?? 100_000;
    this.statusChannel = options.publishStatus === false ? "" : this.keys.statusChannel;
    this.store = { client: this.client, keys: this.keys, statusChannel: this.statusChannel };
    this.pollMs = options.pollMs ?? 1000;
    this.lookup = new Lookup(this.client, this.keys);
    this.dead = new DeadSet(this.client, this.keys, this.lookup, this.statusChannel);
    this.flow = new Flow(this.client, this.keys, this.statusChannel);
    this.control = new Control(this.client, this.keys, this.lookup, this.statusChannel);
    this.lister = new JobLister(this.client, this.keys, this.lookup);
    this.batches = new Batches(this.client, this.keys, this.lookup, this.retentionMs, this.statusChannel);
    this.layout = new MigrationGate(() => upgradeLayout(this.client, this.keys), options.migrate ?? true);
    const base = this.client.isCluster ? CLUSTER_CAPABILITIES : REDIS_CAPABILITIES;
    this.sweeps = base.concurrencyLimits;
    this.capabilityNotes = this.client.isCluster ? CLUSTER_REASONS : {};
    this.subscriber = new Subscriber(subscriberConnection(this.client));
    this.wake = new WakeChannel(this.subscriber, this.keys.wakeChannel, () => undefined, (queue) => this.lookup.noteWake(queue));
    if (this.statusChannel) {
      this.capabilities = base;
      const channel = this.statusChannel;
      this.openStatusFeed = (feedOptions) => {
        if (this.closed) return Promise.reject(new Error("the redis adapter is closed"));
        return openStatusFeed(this.subscriber, channel, feedOptions);
      };
    } else {
      this.capabilities = Object.freeze({ ...base, statusFeed: false });
    }
  }

  /** Upgrades the prefix's keys to this version's layout (`migrate.ts`); safe when several processes run it at once. */
  async migrate(): Promise<MigrateResult> {
    return { applied: await this.layout.run() };
  }

  /** One PING and the prefix's layout, never through the migration gate (`diagnose.ts`). */
  async diagnose({ timeoutMs }: DiagnoseOptions): Promise<Diagnosis> {
    const latencyMs = await pingRedis(this.client, timeoutMs);
    return { latencyMs, target: redisTarget(this.client), schema: await diagnoseLayout(this.client, this.keys, timeoutMs) };
  }

  private nextToken(): string {
    return `${this.tokenPrefix}.${(this.tokenSeq++).toString(36)}`;
  }

  async enqueue({ jobs }: EnqueueOptions): Promise<EnqueueResult[]> {
    if (jobs.length === 0) return [];
    if (!this.layout.ready) await this.layout.whenReady();
    const byQueue = groupBy(jobs, (job) => job.queue);
    const registering = this.lookup.register(byQueue.keys());
    const checks = batchChecks(jobs);
    if (jobs.some(hasFlow)) {
      const [, results] = await Promise.all([registering, this.flow.enqueue(jobs, checks)]);
      return results;
    }
    await Promise.all([registering, ...[...byQueue].map(([queue, group]) => enqueueQueue(this.store, queue, group, checks))]);
    return jobs.map((job) => ({ jobId: job.id, providerJobId: job.id }));
  }

  async reserve({ queues, except, max, leaseMs, waitMs, signal, workerId }: ReserveOptions): Promise<Reservation[]> {
    const deadline = Date.now() + waitMs;
    if (!this.layout.ready) await this.layout.whenReady();
    for (;;) {
      if (this.sweeps) await this.flow.sweepIfDue();
      const mark = this.wake.mark();
      const names = queues !== "*" ? queues : except?.length ? (await this.lookup.knownQueues()).filter((queue) => !except.includes(queue)) : await this.lookup.knownQueues();
      const reserved: Reservation[] = [];
      let nextMs = Infinity;
      for (const queue of names) {
        const room = max - reserved.length;
        if (room <= 0) break;
        const keys = this.keys.queue(queue);
        const token = this.nextToken();
        const reply = await runScript<(string | number)[]>(
          this.client,
          "reserve",
          [keys.prios, keys.scheduled, keys.retrying, keys.active, keys.deferred, keys.flow],
          [keys.jobs, room, leaseMs, token, workerId, this.statusChannel, queue, this.keys.base],
        );
        const next = readReserveReply(reply, { queue, token }, reserved);
        if (next >= 0) nextMs = Math.min(nextMs, next);
      }
      if (reserved.length > 0) return reserved;
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted || this.closed) return [];
      // Look again when woken, when the next scheduled job, retry or lease comes due, or at the poll.
      await this.wake.wait(queues, Math.max(1, Math.min(left, nextMs, this.pollMs)), signal, mark);
      // Woken on "*": the message may name a queue the cached list (up to 1 s old) lacks, e.g.
      // the first job of a new queue; without a fresh list the wake-up found nothing and the
      // job waited a whole pollMs.
    }
  }

  async settle({ settlements }: SettleOptions): Promise<void> {
    if (settlements.length === 0) return;
    if (!this.layout.ready) await this.layout.whenReady();
    // A retry into another queue crosses hash slots: store it there first, then retire it here.
    type Retry = Extract<Settlement, { outcome: "retry" }>;
    const moves = settlements.filter((s): s is Retry => s.outcome === "retry" && s.payload.queue !== handleOf(s.reservation).queue);
    const local = moves.length === 0 ? settlements : settlements.filter((s) => !(moves as Settlement[]).includes(s));
    const byQueue = groupBy(local, (s) => handleOf(s.reservation).queue);
    await Promise.all([...[...byQueue].map(([queue, group]) => this.settleQueue(queue, group)), ...moves.map((s) => this.moveRetry(s))]);
    if (this.control.marked) await this.control.settled(settlements);
  }

  private async settleQueue(queue: string, settlements: readonly Settlement[]): Promise<void> {
    const keys = this.keys.queue(queue);
    const args: (string | number)[] = [keys.jobs, this.retentionMs, this.maxFinished, this.keys.wakeChannel, this.statusChannel, queue, this.keys.base];
    for (const s of settlements) pushSettlement(args, queue, s);
    await runScript(this.client, "settle", [keys.prios, keys.retrying, keys.active, keys.done, keys.dead, keys.flow, keys.failed], args);
  }

  /** A retry whose rule names another queue: enqueued there (same id), then retired from its old queue. */
  private async moveRetry(s: Extract<Settlement, { outcome: "retry" }>): Promise<void> {
    const payload = { ...s.payload, runAt: s.runAt.toISOString() };
    await this.lookup.register([payload.queue]);
    // With flow, the fields go along (a move is stored without unique or recurring decisions).
    if (hasFlow(payload)) await this.flow.enqueue([payload], [], true);
    else await enqueueQueue(this.store, payload.queue, [payload], [], true);
    const { queue, token } = handleOf(s.reservation);
    const keys = this.keys.queue(queue);
    await runScript(this.client, "retire", [keys.active], [keys.jobs, s.reservation.providerJobId, token, this.keys.base]);
  }

  async extendLease({ reservations, leaseMs }: ExtendLeaseOptions): Promise<string[]> {
    if (reservations.length === 0) return [];
    if (!this.layout.ready) await this.layout.whenReady();
    const byQueue = groupBy(reservations, (r) => handleOf(r).queue);
    const lost = await Promise.all(
      [...byQueue].map(([queue, group]) => {
        const keys = this.keys.queue(queue);
        const args: (string | number)[] = [keys.jobs, leaseMs, this.keys.base];
        for (const r of group) args.push(r.providerJobId, handleOf(r).token);
        return runScript<string[]>(this.client, "extend-leases", [keys.active, keys.flow], args);
      }),
    );
    return lost.flat();
  }

  async setProgress({ updates }: SetProgressOptions): Promise<void> {
    const held = updates.filter((update) => update.reservation !== undefined);
    if (held.length === 0) return;
    if (!this.layout.ready) await this.layout.whenReady();
    const byQueue = groupBy(held, (update) => handleOf(update.reservation!).queue);
    await Promise.all(
      [...byQueue].map(([queue, group]) => {
        const keys = this.keys.queue(queue);
        const args: string[] = [keys.jobs, this.statusChannel, queue];
        for (const update of group) {
          const progress = update.message === undefined ? { fraction: update.fraction } : { fraction: update.fraction, message: update.message };
          args.push(update.reservation!.providerJobId, JSON.stringify(progress));
        }
        return runScript(this.client, "set-progress", [keys.active], args);
      }),
    );
  }

  async getStatus(options: GetStatusOptions): Promise<(StatusRecord | null)[]> {
    if (!this.layout.ready) await this.layout.whenReady();
    return this.lookup.getStatus(options);
  }

  async recurringState({ tasks }: RecurringStateOptions): Promise<(RecurringRecord | null)[]> {
    if (!this.layout.ready) await this.layout.whenReady();
    return this.flow.recurringState(tasks, await this.lookup.knownQueues());
  }

  async listQueues(options: ListQueuesOptions = {}): Promise<QueueInfo[]> {
    if (!this.layout.ready) await this.layout.whenReady();
    return listQueues(this.client, this.keys, this.lookup, this.control, options);
  }

  async listJobs(options: ListJobsOptions): Promise<JobPage> {
    if (!this.layout.ready) await this.layout.whenReady();
    return this.lister.list(options);
  }

  async changeJobs(options: ChangeJobsOptions): Promise<string[]> {
    if (!this.layout.ready) await this.layout.whenReady();
    return this.control.changeJobs(options);
  }

  async pauseQueues(options: PauseQueuesOptions): Promise<void> {
    return this.control.pauseQueues(options);
  }

  async heartbeat(options: HeartbeatOptions): Promise<HeartbeatResult> {
    return this.control.heartbeat(options);
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return this.control.listWorkers();
  }

  async listDead(options: ListDeadOptions): Promise<DeadJob[]> {
    if (!this.layout.ready) await this.layout.whenReady();
    return this.dead.list(options);
  }

  async retryDead(options: RetryDeadOptions): Promise<number> {
    if (!this.layout.ready) await this.layout.whenReady();
    return this.dead.retry(options);
  }

  async purgeDead(options: PurgeDeadOptions): Promise<number> {
    if (!this.layout.ready) await this.layout.whenReady();
    return this.dead.purge(options);
  }

  /** Stores new batches, open (`batches.ts`); refused on a Cluster. */
  async openBatches({ batches }: OpenBatchesOptions): Promise<void> {
    if (!this.layout.ready) await this.layout.whenReady();
    return this.batches.open(batches);
  }

  /** Seals batches; a batch with nothing pending finishes, storing its callbacks (`batches.ts`). */
  async sealBatches({ ids }: SealBatchesOptions): Promise<void> {
    if (!this.layout.ready) await this.layout.whenReady();
    return this.batches.seal(ids);
  }

  /** Batch records by id, `null` for an unknown or expired one (`batches.ts`). */
  async getBatches({ ids }: GetBatchesOptions): Promise<(BatchRecord | null)[]> {
    return this.batches.get(ids);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake.close();
    await this.subscriber.close();
    if (this.ownsClient) await closeClient(this.client);
  }

  mapError(error: unknown, operation: string): Error | undefined {
    const message = error instanceof Error ? error.message : "";
    // ioredis reports lost connections by message; a Cluster adds its own (slots cache,
    // startup nodes). Node's socket codes are mapped by core's adapter client.
    const connectionLost = /Connection is closed|MaxRetriesPerRequest|connect ECONNREFUSED|Failed to refresh slots cache|None of startup nodes is available|ClusterAllFailed/;
    if (connectionLost.test(message)) {
      return new ConnectionError(this.name, operation, error);
    }
    return undefined;
  }
}
