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
 * Each of those has its own module: the refusals in `storable.ts`, coalescing and chunking
 * in `enqueue-batching.ts`, the error mapping in `map-error.ts`; dead-set revival, which
 * `retryDead` hands the adapter, in `revive.ts`.
 *
 * @module
 */
import type { TypedEmitter, ErrandEvents } from "../events.js";
import { AdapterClosedError, AdapterError, UnsupportedError } from "../errors.js";
import { endScopes, type Instrumentations } from "../instrumentation.js";
import { EnqueueCoalescer, PARALLEL_CHUNKS, sendInChunks } from "./enqueue-batching.js";
import { mapAdapterError } from "./map-error.js";
import { revive } from "./revive.js";
import { checkStorable, lacksCapability } from "./storable.js";
import type {
  Adapter,
  AdapterCapabilities,
  BatchRecord,
  ChangeJobsOptions,
  DeadJob,
  DeadSelection,
  DiagnoseOptions,
  Diagnosis,
  EnqueueResult,
  HeartbeatOptions,
  HeartbeatResult,
  JobPage,
  JobPayload,
  ListDeadOptions,
  ListJobsOptions,
  ListQueuesOptions,
  NewBatch,
  PauseQueuesOptions,
  WorkerRecord,
  MigrateResult,
  QueueInfo,
  RecurringRecord,
  Reservation,
  ReserveOptions,
  SetProgressOptions,
  Settlement,
  StatusFeed,
  StatusFeedOptions,
  StatusRecord,
} from "../adapter/contract.js";

// Imported from here before they had modules of their own.
export { revive } from "./revive.js";
export { unstorablePriority } from "./storable.js";

/** Core's handle on an adapter. Every adapter call in core goes through it. */
export class AdapterClient {
  /** The adapter's name. */
  readonly name: string;
  /** The adapter's capabilities, read once. */
  readonly capabilities: AdapterCapabilities;
  private readonly coalescer = new EnqueueCoalescer((payloads) => this.sendBatches(payloads, undefined));
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
      const mapped = mapAdapterError(this.adapter, error, operation);
      this.events.emit("adapter:call", { adapter: this.name, operation, durationMs: performance.now() - started, count, error: mapped });
      throw mapped;
    }
  }

  /**
   * Refuses, now, what the adapter cannot store: a job made inside an app's transaction and
   * deferred to its commit is checked while the transaction can still roll back.
   * @throws UnsupportedError naming the job and the capability it lacks.
   */
  refuseUnstorable(payloads: readonly JobPayload[]): void {
    checkStorable(this, payloads, undefined);
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
      checkStorable(this, payloads, transaction);
    } catch (error) {
      return Promise.reject(error);
    }
    if (transaction !== undefined || !this.capabilities.durable) return this.sendBatches(payloads, transaction);
    return this.coalescer.add(payloads);
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
    // One connection can only run one statement at a time: inside a transaction the
    // chunks go in order; otherwise a few go side by side over the adapter's pool.
    const results = await sendInChunks(payloads, max, transaction === undefined ? PARALLEL_CHUNKS : 1, send);
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

  /** Stores new batches, open (`capabilities.batches`). */
  openBatches(batches: NewBatch[]): Promise<void> {
    const open = this.adapter.openBatches?.bind(this.adapter);
    if (!this.capabilities.batches || !open) return Promise.reject(this.unsupported("batches", "does not support batches"));
    return this.call("openBatches", batches.length, () => open({ batches }));
  }

  /** Seals batches: their creator enqueued everything (`capabilities.batches`). */
  sealBatches(ids: string[]): Promise<void> {
    const seal = this.adapter.sealBatches?.bind(this.adapter);
    if (!this.capabilities.batches || !seal) return Promise.reject(this.unsupported("batches", "does not support batches"));
    return this.call("sealBatches", ids.length, () => seal({ ids }));
  }

  /** Batch records by id, `null` when unknown (`capabilities.batches`). */
  getBatches(ids: string[]): Promise<(BatchRecord | null)[]> {
    const get = this.adapter.getBatches?.bind(this.adapter);
    if (!this.capabilities.batches || !get) return Promise.reject(this.unsupported("batches", "does not support batches"));
    return this.call("getBatches", ids.length, () => get({ ids }));
  }

  private unsupported(capability: keyof AdapterCapabilities, what: string): UnsupportedError {
    return new UnsupportedError(lacksCapability(this, capability, what));
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

  /** The backend's health (`errand doctor`); `undefined` for an adapter without `diagnose`. */
  diagnose(options: DiagnoseOptions): Promise<Diagnosis | undefined> {
    const diagnose = this.adapter.diagnose?.bind(this.adapter);
    if (!diagnose) return Promise.resolve(undefined);
    return this.call("diagnose", 1, () => diagnose(options));
  }

  /** Waits for queued enqueues, then closes the adapter; later calls are `AdapterClosedError`. */
  async close(): Promise<void> {
    await this.coalescer.drained();
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.closeHooks.map((hook) => hook()));
    await this.call("close", 0, () => this.adapter.close());
  }
}
