/**
 * The one wrapper core puts around every adapter call. It
 *
 * - checks options against the adapter's `capabilities` before anything is sent
 *   (a transaction, a delay past `maxDelayMs`, a priority without `priorities` or past
 *   `maxPriority`, flow control, payload size),
 *   refusing with `UnsupportedError`;
 * - coalesces concurrent enqueues to durable (networked) backends: while one enqueue
 *   call is in flight, further `performLater` calls wait and go together in the next
 *   call, so 32 requests in flight cost two round trips, not 32. In-memory backends gain
 *   nothing from it, and transactional enqueues are never merged: they belong to the
 *   caller's connection;
 * - times each call and emits `adapter:call`;
 * - maps backend failures to `ErrandError` subclasses (the adapter's own `mapError`
 *   first, then Node's socket error codes to `ConnectionError`, `AdapterError`
 *   otherwise), so messages read the same on every backend;
 * - owns the closed state: after `close()` every call is `AdapterClosedError`.
 *
 * @module
 */
import type { TypedEmitter, ErrandEvents } from "../events.js";
import { AdapterClosedError, AdapterError, ConnectionError, ErrandError, MalformedPayloadError, UnsupportedError } from "../errors.js";
import { endScopes, type Instrumentations } from "../instrumentation.js";
import { checkHeaders, decodePayload, encodePayload } from "../wire-format.js";
import type {
  Adapter,
  AdapterCapabilities,
  ChangeJobsOptions,
  DeadJob,
  DeadSelection,
  EnqueueResult,
  HeartbeatOptions,
  HeartbeatResult,
  JobPage,
  JobPayload,
  ListDeadOptions,
  ListJobsOptions,
  ListQueuesOptions,
  PauseQueuesOptions,
  WorkerRecord,
  MigrateResult,
  QueueInfo,
  RecurringRecord,
  Reservation,
  ReserveOptions,
  RevivedJob,
  SetProgressOptions,
  Settlement,
  StatusFeed,
  StatusFeedOptions,
  StatusRecord,
} from "../adapter/contract.js";

interface PendingEnqueue {
  payloads: JobPayload[];
  resolve(results: EnqueueResult[]): void;
  reject(error: unknown): void;
}

/**
 * Chunks of one oversized enqueue in flight at once: one is stored while the next is sent,
 * on separate connections. Measured on PostgreSQL (20k jobs, 5,000 per chunk, 2 cores):
 * 1 in flight 31–35k jobs/s, 2: 40k, 4: 32k (the backends then fight over the CPU). Again
 * 2026-12-03, four interleaved pairs: 2 in flight 39–43k, 1: 33–35k, for 3–5 µs more server
 * CPU per job. Redis: 2 in flight 58–60k, 1: 52k.
 */
const PARALLEL_CHUNKS = 2;

/** Node's socket error codes: the backend could not be reached, whichever it is. */
const SOCKET_ERROR_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);

/**
 * The capability an adapter lacks to store `priority`: `"priorities"` (it has none, and the
 * priority is not 0), `"maxPriority"` (beyond ±maxPriority), or `undefined` when it fits.
 * One decision for the priority a job is enqueued at and the one its retry rules name.
 */
export function unstorablePriority(priority: number, capabilities: AdapterCapabilities): "priorities" | "maxPriority" | undefined {
  if (priority !== 0 && !capabilities.priorities) return "priorities";
  if (Math.abs(priority) > capabilities.maxPriority) return "maxPriority";
  return undefined;
}

/** Core's handle on an adapter. Every adapter call in core goes through it. */
export class AdapterClient {
  /** The adapter's name. */
  readonly name: string;
  /** The adapter's capabilities, read once. */
  readonly capabilities: AdapterCapabilities;
  private pending: PendingEnqueue[] = [];
  private flushing: Promise<void> | undefined;
  private flushScheduled = false;
  private closed = false;
  private readonly closeHooks: (() => Promise<void>)[] = [];

  constructor(
    /** The wrapped adapter; call it only through this client. */
    readonly adapter: Adapter,
    private readonly events: TypedEmitter<ErrandEvents>,
    /** The runtime's enqueue hooks; none for a client built without a runtime (tests). */
    private readonly instrumentation?: Instrumentations,
  ) {
    this.name = adapter.name;
    this.capabilities = adapter.capabilities;
  }

  private async call<T>(operation: string, count: number, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      if (this.closed && operation !== "close") throw new AdapterClosedError(this.name, operation);
      const result = await run();
      if (this.events.has("adapter:call")) {
        this.events.emit("adapter:call", { adapter: this.name, operation, durationMs: performance.now() - started, count });
      }
      return result;
    } catch (error) {
      const mapped = this.mapError(error, operation);
      this.events.emit("adapter:call", { adapter: this.name, operation, durationMs: performance.now() - started, count, error: mapped });
      throw mapped;
    }
  }

  private mapError(error: unknown, operation: string): Error {
    if (error instanceof ErrandError) return error;
    const mapped = this.adapter.mapError?.(error, operation);
    if (mapped) return mapped;
    const code = (error as { code?: unknown } | null | undefined)?.code;
    if (typeof code === "string" && SOCKET_ERROR_CODES.has(code)) return new ConnectionError(this.name, operation, error);
    return new AdapterError(this.name, operation, error);
  }

  /**
   * Refuses, now, what the adapter cannot store: a job made inside an app's transaction and
   * deferred to its commit is checked while the transaction can still roll back.
   * @throws UnsupportedError naming the job and the capability it lacks.
   */
  refuseUnstorable(payloads: readonly JobPayload[]): void {
    this.check(payloads, undefined);
  }

  /** Refuses what the adapter cannot store. */
  private check(payloads: readonly JobPayload[], transaction: unknown): void {
    const caps = this.capabilities;
    if (transaction !== undefined && !caps.transactionalEnqueue) {
      throw new UnsupportedError(
        `the ${this.name} adapter cannot enqueue inside your transaction (capability transactionalEnqueue${this.adapter.capabilityNotes?.transactionalEnqueue ? `: ${this.adapter.capabilityNotes.transactionalEnqueue}` : ""}); enqueue after commit instead`,
      );
    }
    const now = Date.now();
    for (const payload of payloads) {
      if (caps.maxDelayMs !== Infinity) {
        const delay = Date.parse(payload.runAt) - now;
        if (delay > caps.maxDelayMs) {
          throw new UnsupportedError(
            `${payload.job}: a wait of ${delay} ms is longer than the ${this.name} adapter allows (maxDelayMs ${caps.maxDelayMs})`,
          );
        }
      }
      const lacking = unstorablePriority(payload.priority, caps);
      if (lacking === "priorities") {
        throw new UnsupportedError(`${payload.job}: the ${this.name} adapter does not support priorities (capability priorities)`);
      }
      if (lacking === "maxPriority") {
        throw new UnsupportedError(
          `${payload.job}: priority ${payload.priority} is outside what the ${this.name} adapter stores (capability maxPriority: -${caps.maxPriority} to ${caps.maxPriority})`,
        );
      }
      // Written by an instrumentation's enqueue hook: refused here rather than dead at reserve.
      if (payload.headers !== undefined) checkHeaders(payload.headers);
      if (payload.group !== undefined && !caps.groups) {
        throw new UnsupportedError(`${payload.job}: the ${this.name} adapter does not support ordering groups (capability groups); set({ group }) needs SQS FIFO queues`);
      }
      const flow = payload.flow;
      if (flow) {
        // The adapter may say why a capability is off here and what would turn it on.
        const lacks = (what: string, capability: keyof AdapterCapabilities) => {
          const note = this.adapter.capabilityNotes?.[capability];
          return new UnsupportedError(`${payload.job}: the ${this.name} adapter does not support ${what} (capability ${capability})${note ? `: ${note}` : ""}`);
        };
        if (flow.unique && !caps.unique) throw lacks("unique jobs", "unique");
        if (flow.concurrency && !caps.concurrencyLimits) throw lacks("concurrency limits", "concurrencyLimits");
        if (flow.rateLimit && !caps.rateLimits) throw lacks("rate limits", "rateLimits");
        if (flow.recurring && !caps.recurring) throw lacks("recurring tasks", "recurring");
      }
      if (caps.maxPayloadBytes !== Infinity) {
        const size = Buffer.byteLength(JSON.stringify(payload));
        if (size > caps.maxPayloadBytes) {
          throw new UnsupportedError(
            `${payload.job}: the payload is ${size} bytes, over the ${this.name} adapter's limit of ${caps.maxPayloadBytes}; pass references (models, ids) instead of data`,
          );
        }
      }
    }
  }

  /**
   * Stores payloads, in order. Without a transaction, concurrent calls are merged into
   * one adapter call while another is in flight.
   */
  enqueue(payloads: JobPayload[], transaction?: unknown): Promise<EnqueueResult[]> {
    // The one check an uninstrumented enqueue pays.
    if (this.instrumentation !== undefined && this.instrumentation.list.length > 0) return this.enqueueInstrumented(payloads, transaction);
    return this.enqueueChecked(payloads, transaction);
  }

  /** `enqueue` with the hooks around it: they may write each payload's `headers` before it is checked. */
  private enqueueInstrumented(payloads: JobPayload[], transaction: unknown): Promise<EnqueueResult[]> {
    const scopes = this.instrumentation!.startEnqueue({ adapter: this.name, payloads });
    const stored = this.enqueueChecked(payloads, transaction);
    if (scopes.length === 0) return stored;
    stored.then(
      (results) => endScopes(scopes, { results }),
      (error: unknown) => endScopes(scopes, { error }),
    );
    return stored;
  }

  private enqueueChecked(payloads: JobPayload[], transaction: unknown): Promise<EnqueueResult[]> {
    try {
      this.check(payloads, transaction);
    } catch (error) {
      return Promise.reject(error);
    }
    if (transaction !== undefined || !this.capabilities.durable) return this.sendBatches(payloads, transaction);
    return new Promise((resolve, reject) => {
      this.pending.push({ payloads, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushing || this.flushScheduled || this.pending.length === 0) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flushing = this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      const payloads = batch.length === 1 ? batch[0]!.payloads : batch.flatMap((entry) => entry.payloads);
      const results = await this.sendBatches(payloads, undefined);
      let offset = 0;
      for (const entry of batch) {
        entry.resolve(batch.length === 1 ? results : results.slice(offset, offset + entry.payloads.length));
        offset += entry.payloads.length;
      }
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      this.flushing = undefined;
      this.scheduleFlush();
    }
  }

  private async sendBatches(payloads: JobPayload[], transaction: unknown): Promise<EnqueueResult[]> {
    const max = this.capabilities.maxBatchSize;
    const send = (jobs: JobPayload[]) =>
      this.call("enqueue", jobs.length, async () => {
        const results = await this.adapter.enqueue(transaction === undefined ? { jobs } : { jobs, transaction });
        if (results.length !== jobs.length) {
          throw new AdapterError(this.name, "enqueue", `returned ${results.length} results for ${jobs.length} jobs`);
        }
        return results;
      });
    let results: EnqueueResult[];
    if (payloads.length <= max) {
      results = await send(payloads);
    } else {
      const chunks: JobPayload[][] = [];
      for (let start = 0; start < payloads.length; start += max) chunks.push(payloads.slice(start, start + max));
      // One connection can only run one statement at a time: inside a transaction the
      // chunks go in order; otherwise a few go side by side over the adapter's pool.
      const parallel = transaction === undefined ? PARALLEL_CHUNKS : 1;
      const chunkResults: EnqueueResult[][] = new Array(chunks.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(parallel, chunks.length) }, async () => {
          while (next < chunks.length) {
            const index = next++;
            chunkResults[index] = await send(chunks[index]!);
          }
        }),
      );
      results = chunkResults.flat();
    }
    if (this.events.has("job:enqueue")) {
      payloads.forEach((payload, index) => {
        const result = results[index]!;
        this.events.emit("job:enqueue", {
          payload,
          providerJobId: result.providerJobId,
          adapter: this.name,
          duplicate: result.duplicate === true,
        });
      });
    }
    return results;
  }

  /** Leases ready jobs. */
  reserve(options: ReserveOptions): Promise<Reservation[]> {
    if (options.queues === "*" && !this.capabilities.wildcardQueues) {
      return Promise.reject(new UnsupportedError(`the ${this.name} adapter cannot reserve from every queue ("*"); name the queues`));
    }
    return this.call("reserve", options.max, () => this.adapter.reserve(options));
  }

  /** Records how reserved jobs ended. */
  settle(settlements: Settlement[]): Promise<void> {
    return this.call("settle", settlements.length, () => this.adapter.settle({ settlements }));
  }

  /** Extends leases; resolves to the provider ids whose lease was lost. */
  extendLease(reservations: Reservation[], leaseMs: number): Promise<string[]> {
    return this.call("extendLease", reservations.length, () => this.adapter.extendLease({ reservations, leaseMs }));
  }

  /** Stores progress. */
  setProgress(updates: SetProgressOptions["updates"]): Promise<void> {
    return this.call("setProgress", updates.length, () => this.adapter.setProgress({ updates }));
  }

  /** Status records by job id. */
  getStatus(ids: string[]): Promise<(StatusRecord | null)[]> {
    return this.call("getStatus", ids.length, () => this.adapter.getStatus({ ids }));
  }

  /**
   * Opens the adapter's status feed (`capabilities.statusFeed`). Core's status hub is its
   * one caller, at most one feed at a time per client.
   */
  openStatusFeed(options: StatusFeedOptions): Promise<StatusFeed> {
    const open = this.adapter.openStatusFeed?.bind(this.adapter);
    if (!this.capabilities.statusFeed || !open) {
      return Promise.reject(new UnsupportedError(`the ${this.name} adapter has no status feed (capability statusFeed)`));
    }
    return this.call("openStatusFeed", 1, () => open(options));
  }

  /** Runs `hook` when the client closes, before the adapter does (the status hub's feed). */
  beforeClose(hook: () => Promise<void>): void {
    this.closeHooks.push(hook);
  }

  /** Each recurring task's last stored tick (`capabilities.recurring`), `null` for a task with none. */
  recurringState(tasks: string[]): Promise<(RecurringRecord | null)[]> {
    const read = this.adapter.recurringState?.bind(this.adapter);
    if (!this.capabilities.recurring || !read) {
      return Promise.reject(new UnsupportedError(`the ${this.name} adapter keeps no recurring state (capability recurring)`));
    }
    return this.call("recurringState", tasks.length, () => read({ tasks }));
  }

  /** Counts per queue; with `throughputMinutes` (capability `control`), each queue's throughput too. */
  listQueues(options: ListQueuesOptions = {}): Promise<QueueInfo[]> {
    if (options.throughputMinutes !== undefined && !this.capabilities.control) {
      return Promise.reject(this.unsupported("control", "keeps no throughput"));
    }
    return this.call("listQueues", 1, () => this.adapter.listQueues(options));
  }

  /** A page of jobs (`capabilities.listJobs`). */
  listJobs(options: ListJobsOptions): Promise<JobPage> {
    const list = this.adapter.listJobs?.bind(this.adapter);
    if (!this.capabilities.listJobs || !list) return Promise.reject(this.unsupported("listJobs", "cannot list jobs"));
    return this.call("listJobs", "ids" in options ? options.ids.length : options.limit, () => list(options));
  }

  /** Cancels, runs now or aborts jobs (`capabilities.control`); resolves to the ids changed. */
  changeJobs(options: ChangeJobsOptions): Promise<string[]> {
    const change = this.adapter.changeJobs?.bind(this.adapter);
    if (!this.capabilities.control || !change) return Promise.reject(this.unsupported("control", `cannot ${options.action} jobs`));
    return this.call("changeJobs", options.ids.length, () => change(options));
  }

  /** Pauses or resumes queues (`capabilities.control`). */
  pauseQueues(options: PauseQueuesOptions): Promise<void> {
    const pause = this.adapter.pauseQueues?.bind(this.adapter);
    if (!this.capabilities.control || !pause) return Promise.reject(this.unsupported("control", "cannot pause queues"));
    return this.call("pauseQueues", options.queues.length, () => pause(options));
  }

  /** Stores a worker's beat and reads back pauses and aborts (`capabilities.control`). */
  heartbeat(options: HeartbeatOptions): Promise<HeartbeatResult> {
    const beat = this.adapter.heartbeat?.bind(this.adapter);
    if (!this.capabilities.control || !beat) return Promise.reject(this.unsupported("control", "keeps no worker heartbeats"));
    return this.call("heartbeat", 1, () => beat(options));
  }

  /** Workers whose records the backend keeps (`capabilities.control`). */
  listWorkers(): Promise<WorkerRecord[]> {
    const list = this.adapter.listWorkers?.bind(this.adapter);
    if (!this.capabilities.control || !list) return Promise.reject(this.unsupported("control", "keeps no worker heartbeats"));
    return this.call("listWorkers", 1, () => list({}));
  }

  private unsupported(capability: keyof AdapterCapabilities, what: string): UnsupportedError {
    const note = this.adapter.capabilityNotes?.[capability];
    return new UnsupportedError(`the ${this.name} adapter ${what} (capability ${capability})${note ? `: ${note}` : ""}`);
  }

  /** Dead jobs, newest first. */
  listDead(options: ListDeadOptions = {}): Promise<DeadJob[]> {
    return this.call("listDead", options.limit ?? 100, () => this.adapter.listDead(options));
  }

  /** Moves dead jobs back to their queues with fresh attempts. */
  retryDead(select: DeadSelection): Promise<number> {
    return this.call("retryDead", "ids" in select ? select.ids.length : 1, () => this.adapter.retryDead({ select, revive }));
  }

  /** Deletes dead jobs. */
  purgeDead(select: DeadSelection): Promise<number> {
    return this.call("purgeDead", "ids" in select ? select.ids.length : 1, () => this.adapter.purgeDead({ select }));
  }

  /** Creates or upgrades the backend's schema; `{ applied: [] }` for backends without one. */
  migrate(): Promise<MigrateResult> {
    const migrate = this.adapter.migrate?.bind(this.adapter);
    if (!migrate) return Promise.resolve({ applied: [] });
    return this.call("migrate", 1, () => migrate({}));
  }

  /** Waits for queued enqueues, then closes the adapter; later calls are `AdapterClosedError`. */
  async close(): Promise<void> {
    // A flush re-schedules itself while calls are pending; a scheduled one starts in a microtask.
    while (this.flushing || this.flushScheduled || this.pending.length > 0) {
      await (this.flushing ?? Promise.resolve());
    }
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.closeHooks.map((hook) => hook()));
    await this.call("close", 0, () => this.adapter.close());
  }
}

/**
 * Core's decision on a dead job: a body that is a valid payload comes back with fresh
 * attempts (`executions` 0, retry rules' counters dropped), due now, in the queue and
 * priority it names; anything else
 * (not JSON, not wire format v1) would only die again and stays dead (`null`).
 */
export function revive(body: string): RevivedJob | null {
  let payload;
  try {
    payload = decodePayload(body);
  } catch (error) {
    if (error instanceof MalformedPayloadError) return null;
    throw error;
  }
  const { exceptionExecutions: _counters, attempts: _attempts, ...rest } = payload;
  const revived: JobPayload = { ...rest, executions: 0, runAt: new Date().toISOString() };
  return { payload: revived, body: encodePayload(revived) };
}
