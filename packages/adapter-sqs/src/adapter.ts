/**
 * The SQS adapter. SQS stores messages and hides received ones for a visibility timeout;
 * everything else a job library needs is made up here:
 *
 * - **Delays past 15 minutes** hop: a message is sent with the longest delay SQS allows and
 *   its real due time in the `errand-run-at` attribute; a worker that receives it early
 *   sends it again with the rest of the delay and deletes the early copy.
 * - **Leases** are visibility timeouts, extended in batches while a job runs (never past
 *   SQS's 12 hours); a job whose worker died becomes visible again when its timeout ends.
 * - **Retries** are sent again with the backoff as delay (the body carries the new
 *   `executions`), then the delivered copy is deleted: at-least-once, never zero times.
 * - **Dead jobs** go to the queue's dead-letter queue (`<queue>-dead`, also the target of
 *   its redrive policy) with the reason in message attributes; the dead set is read, retried
 *   and purged there.
 * - **Status** lives in a `StatusStore` (this process's memory by default, or the Redis or
 *   PostgreSQL stores of those packages), which also tells a current lease from a stale one.
 *   A store with a feed (`openFeed`: all three) gives the adapter `statusFeed`.
 * - **FIFO** queues (`fifo: true`): `set({ group })` is the message group; the deduplication
 *   id is the job id and a random suffix per message sent. SQS FIFO queues have no per-message delay, so
 *   waits are refused (`maxDelayMs: 0`) and a retry keeps its message and waits out its
 *   backoff as visibility timeout (so its group stays in order); its execution count then
 *   comes from SQS's receive count.
 * - **Priorities**: SQS has none, and priority bands mapped to queues would only reorder
 *   what weighted queues already express; priorities are refused (`priorities: false`):
 *   put urgent jobs on their own queue and weight it (`errand work -q critical,3 -q default`).
 *
 * - **Flow control** (unique jobs, concurrency and rate limits, recurring ticks) needs a
 *   shared status store with `flow` (Redis or PostgreSQL): the store decides, SQS holds the
 *   messages, and every move between the two is recorded first and confirmed after
 *   (`flow.ts`). With `LocalStatusStore` the capabilities are off, and core's refusal says why.
 * - **The operator's contract** (listing jobs, cancel, run now, abort, pauses, worker beats)
 *   needs a shared status store with `control`: the store is the operator's view, and an
 *   action on a waiting job is a mark honoured when its message comes in (`control.ts`).
 * - **Batches** need a shared status store with `batches` (and `flow`): the store counts
 *   the jobs in the status writes and records a finished batch's callbacks as pending sends
 *   in the same step; this adapter sends them (`batches.ts`).
 *
 * The code follows those seams: `sending.ts` (batched sends, deletes and visibility
 * changes), `enqueuing.ts` (enqueue: statuses or flow claims first, then the send),
 * `receiving.ts` (reserve and the long-poll lifecycle, with its state machine),
 * `settling.ts` (settlements: messages before statuses, one queue at a time),
 * `leases.ts` (which deliveries of a batch are stale; lease renewal), `dead-letter.ts` (the
 * dead set), `flow.ts` (flow control), `control.ts` (the operator's contract),
 * `capabilities.ts` (what the adapter can do on which store), `queue-counts.ts`
 * (listQueues), `attributes.ts` (what a message carries besides its body); this file puts
 * them together.
 *
 * @module
 */
import { SQSClient, type SQSClientConfig } from "@aws-sdk/client-sqs";
import {
  ConfigError,
  ConnectionError,
  LocalStatusStore,
  type Adapter,
  type AdapterCapabilities,
  type ChangeJobsOptions,
  type HeartbeatOptions,
  type HeartbeatResult,
  type JobPage,
  type ListJobsOptions,
  type ListQueuesOptions,
  type PauseQueuesOptions,
  type WorkerRecord,
  type BatchRecord,
  type GetBatchesOptions,
  type OpenBatchesOptions,
  type SealBatchesOptions,
  type DeadJob,
  type DiagnoseOptions,
  type Diagnosis,
  type FlowPending,
  type EnqueueOptions,
  type EnqueueResult,
  type ExtendLeaseOptions,
  type GetStatusOptions,
  type ListDeadOptions,
  type MigrateResult,
  type PurgeDeadOptions,
  type QueueInfo,
  type RecurringRecord,
  type RecurringStateOptions,
  type Reservation,
  type ReserveOptions,
  type RetryDeadOptions,
  type SetProgressOptions,
  type SettleOptions,
  type StatusFeed,
  type StatusFeedOptions,
  type StatusRecord,
  type StatusStore,
} from "@errand/core/adapter";

import { deliveredCallbacks, SqsBatches } from "./batches.js";
import { FIFO_CAPABILITIES, SHARED_STORE_BATCHES, SHARED_STORE_CONTROL, SHARED_STORE_FLOW, STANDARD_CAPABILITIES, capabilitiesOf } from "./capabilities.js";
import { SqsControl } from "./control.js";
import { DeadLetters } from "./dead-letter.js";
import { diagnoseSqs } from "./diagnose.js";
import { SqsFlow } from "./flow.js";
import { errorName } from "./limits.js";
import { enqueueJobs, type EnqueueContext } from "./enqueuing.js";
import { extendLeases, type LeaseContext } from "./leases.js";
import { QueueMap } from "./queues.js";
import { queueCounts } from "./queue-counts.js";
import { checkAdapterOptions } from "./options.js";
import { Receiver } from "./receiving.js";
import { Sender } from "./sending.js";
import { settleAll, type SettleAllContext } from "./settling.js";

/** Options of the SQS adapter (`adapter: { use: "sqs", ... }`). */
export interface SqsAdapterOptions {
  /** The app's own `SQSClient`; Errand does not destroy it on close. */
  client?: SQSClient;
  /** `sqs://<region>` (AWS) or an `http(s)://host:port` endpoint (a local emulator, a VPC endpoint). */
  url?: string;
  /** AWS region. Default `AWS_REGION`, else `us-east-1`. */
  region?: string;
  /** Endpoint override (emulators, VPC endpoints). */
  endpoint?: string;
  /** Other `SQSClient` settings (credentials, retries, …). */
  clientConfig?: SQSClientConfig;
  /** Prefix of every SQS queue name. Default `"errand-"`. */
  queuePrefix?: string;
  /** Every queue of this adapter is a FIFO queue (`<name>.fifo`). Default false. */
  fifo?: boolean;
  /** Create missing queues (and their dead-letter queues) on first use. Default true. */
  createQueues?: boolean;
  /** Attributes for queues Errand creates (e.g. `KmsMasterKeyId`). */
  queueAttributes?: Record<string, string>;
  /** Receives after which SQS moves a message to the dead-letter queue by itself (workers that crash on it). Default 10. */
  maxReceiveCount?: number;
  /**
   * Where statuses live. Default: this process's memory (`LocalStatusStore`). A store that is
   * not `shared` (that one included) makes the adapter say `localStatus`: workers warn at start.
   */
  status?: StatusStore;
  /** Receive calls in flight at once to fill one reserve. Default 10 (100 messages). */
  receivesInFlight?: number;
  /**
   * Flow control (with a shared status store): how long a body the store handed out to be
   * sent may stay unconfirmed before another process's upkeep sends it, in ms. Default
   * 30,000 (why: `flow.ts`).
   */
  claimTimeoutMs?: number;
}

/** Jobs in AWS SQS. */
export class SqsAdapter implements Adapter {
  /** Standard queues (`capabilities.ts`). */
  static readonly capabilities: AdapterCapabilities = STANDARD_CAPABILITIES;
  /** FIFO queues: ordering groups, no per-message delay. */
  static readonly fifoCapabilities: AdapterCapabilities = FIFO_CAPABILITIES;
  /** The capabilities a shared status store with flow control (Redis or PostgreSQL) turns on. */
  static readonly sharedStoreFlow = SHARED_STORE_FLOW;
  /** The capabilities a shared status store with the operator's side (Redis or PostgreSQL) turns on. */
  static readonly sharedStoreControl = SHARED_STORE_CONTROL;
  /** The capabilities a shared status store with batches (Redis or PostgreSQL) turns on. */
  static readonly sharedStoreBatches = SHARED_STORE_BATCHES;

  readonly name = "sqs";
  readonly capabilities: AdapterCapabilities;
  /** The SQS client in use. */
  readonly sqs: SQSClient;
  /** Queue names and URLs. */
  readonly queues: QueueMap;
  /** Where statuses live. */
  readonly status: StatusStore;
  /**
   * Reports status changes through the status store's feed (`status.openFeed`: in process
   * for the default store, Redis pub/sub or PostgreSQL LISTEN for the shared ones). Absent
   * when the store has none.
   */
  readonly openStatusFeed?: (options: StatusFeedOptions) => Promise<StatusFeed>;
  private readonly ownsClient: boolean;
  private readonly fifo: boolean;
  private readonly closing = new AbortController();
  private readonly sender: Sender;
  private readonly receiver: Receiver;
  private readonly dead: DeadLetters;
  /** What enqueueing, settling and renewing read of this adapter (`enqueuing.ts`, `settling.ts`, `leases.ts`). */
  private readonly parts: EnqueueContext & SettleAllContext & LeaseContext;
  /** Flow control, when the status store is shared and has it (`flow.ts`). */
  private readonly flow: SqsFlow | undefined;
  /** Why capabilities are off, when they are: flow control and the operator's contract need a shared store (`capabilities.ts`). */
  readonly capabilityNotes?: Partial<Record<keyof AdapterCapabilities, string>>;
  /** The operator's contract, when the status store is shared and has it (`control.ts`). */
  private readonly control: SqsControl | undefined;
  /** Jobs by state or id (`capabilities.listJobs`: a shared store with the operator's side). */
  readonly listJobs?: (options: ListJobsOptions) => Promise<JobPage>;
  /** Cancel, run now, abort (`capabilities.control`). */
  readonly changeJobs?: (options: ChangeJobsOptions) => Promise<string[]>;
  /** Pauses and resumes queues (`capabilities.control`). */
  readonly pauseQueues?: (options: PauseQueuesOptions) => Promise<void>;
  /** Stores a worker's beat (`capabilities.control`). */
  readonly heartbeat?: (options: HeartbeatOptions) => Promise<HeartbeatResult>;
  /** Workers whose records are kept (`capabilities.control`). */
  readonly listWorkers?: () => Promise<WorkerRecord[]>;
  /** Stores new batches, open (`capabilities.batches`: a shared store with batches). */
  readonly openBatches?: (options: OpenBatchesOptions) => Promise<void>;
  /** Seals batches, sending the callbacks of those already done (`capabilities.batches`). */
  readonly sealBatches?: (options: SealBatchesOptions) => Promise<void>;
  /** Batch records by id (`capabilities.batches`). */
  readonly getBatches?: (options: GetBatchesOptions) => Promise<(BatchRecord | null)[]>;
  /** Batches, when the status store is shared and has them (`batches.ts`). */
  private readonly batches: SqsBatches | undefined;
  /** Each recurring task's last stored tick (`capabilities.recurring`: a shared store with flow control). */
  readonly recurringState?: (options: RecurringStateOptions) => Promise<(RecurringRecord | null)[]>;

  constructor(options: SqsAdapterOptions = {}) {
    checkAdapterOptions(options);
    this.fifo = options.fifo ?? false;
    let { region, endpoint } = options;
    if (options.url) {
      const url = new URL(options.url);
      if (url.protocol === "sqs:") region ??= url.hostname || undefined;
      else if (url.protocol === "http:" || url.protocol === "https:") endpoint ??= `${url.protocol}//${url.host}`;
      else throw new ConfigError(`sqs adapter: url ${JSON.stringify(options.url)} must be sqs://<region> or an http(s) endpoint`);
    }
    this.ownsClient = !options.client;
    this.sqs =
      options.client ??
      new SQSClient({
        region: region ?? process.env.AWS_REGION ?? "us-east-1",
        ...(endpoint ? { endpoint } : {}),
        ...options.clientConfig,
      });
    this.queues = new QueueMap(this.sqs, {
      prefix: options.queuePrefix ?? "errand-",
      fifo: this.fifo,
      create: options.createQueues ?? true,
      maxReceiveCount: options.maxReceiveCount ?? 10,
      attributes: options.queueAttributes ?? {},
    });
    this.status = options.status ?? new LocalStatusStore();
    // Without a shared store statuses stay in this process; a worker says so at start.
    const store = this.status;
    const feed = typeof store.openFeed === "function";
    const flowStore = store.shared ? store.flow : undefined;
    const { capabilities, notes } = capabilitiesOf(this.fifo, store);
    this.capabilities = capabilities;
    if (notes) this.capabilityNotes = notes;
    if (flowStore) this.recurringState = ({ tasks }) => flowStore.recurringState(tasks);
    if (feed) {
      this.openStatusFeed = (feedOptions) => {
        if (this.closing.signal.aborted) return Promise.reject(new Error("the sqs adapter is closed"));
        return store.openFeed!(feedOptions);
      };
    }
    this.sender = new Sender(this.sqs, this.fifo);
    const maxReceiveCount = options.maxReceiveCount ?? 10;
    this.flow = flowStore
      ? new SqsFlow({
          flow: flowStore,
          sender: this.sender,
          queues: this.queues,
          fifo: this.fifo,
          maxReceiveCount,
          claimTimeoutMs: options.claimTimeoutMs ?? 30_000,
          ...(this.capabilities.batches ? { delivered: (pendings: readonly FlowPending[]) => deliveredCallbacks(store, pendings) } : {}),
        })
      : undefined;
    const batchStore = this.capabilities.batches ? store.batches : undefined;
    const batches = (this.batches = batchStore && this.flow ? new SqsBatches(batchStore, this.flow) : undefined);
    if (batches) {
      this.openBatches = ({ batches: records }) => batches.open(records);
      this.sealBatches = ({ ids }) => batches.seal(ids);
      this.getBatches = ({ ids }) => batches.get(ids);
    }
    const controlStore = store.shared ? store.control : undefined;
    if (controlStore) {
      const control = (this.control = new SqsControl({ store: controlStore, queues: this.queues, sender: this.sender, fifo: this.fifo }));
      this.listJobs = (listOptions) => control.listJobs(listOptions);
      this.changeJobs = async (changeOptions) => {
        const changed = await control.changeJobs(changeOptions);
        // A cancelled job of a batch counts as discarded; a batch that finished so has its
        // callbacks left by the store to the next sweep (`batches.ts`): run one now.
        if (changeOptions.action === "cancel" && changed.length > 0 && this.batches) await this.flow?.sweepOnce().catch(() => undefined);
        return changed;
      };
      this.pauseQueues = (pauseOptions) => control.pauseQueues(pauseOptions);
      this.heartbeat = (beat) => control.heartbeat(beat);
      this.listWorkers = () => control.listWorkers();
    }
    this.receiver = new Receiver({
      ...(controlStore ? { control: controlStore } : {}),
      flow: this.flow,
      sqs: this.sqs,
      queues: this.queues,
      sender: this.sender,
      status: this.status,
      fifo: this.fifo,
      receivesInFlight: Math.max(1, options.receivesInFlight ?? 10),
      closing: this.closing.signal,
    });
    this.dead = new DeadLetters(this.sqs, this.queues, this.sender, this.status);
    this.parts = { status: this.status, flow: this.flow, batches: this.batches, sender: this.sender, queues: this.queues, fifo: this.fifo };
  }

  async enqueue({ jobs }: EnqueueOptions): Promise<EnqueueResult[]> {
    return enqueueJobs(this.parts, jobs);
  }

  async reserve(options: ReserveOptions): Promise<Reservation[]> {
    return this.receiver.reserve(options);
  }

  async settle({ settlements }: SettleOptions): Promise<void> {
    return settleAll(this.parts, settlements);
  }

  async extendLease({ reservations, leaseMs }: ExtendLeaseOptions): Promise<string[]> {
    return extendLeases(this.parts, reservations, leaseMs);
  }

  async setProgress({ updates }: SetProgressOptions): Promise<void> {
    await this.status.progress(updates.map((u) => (u.message === undefined ? { id: u.jobId, fraction: u.fraction } : { id: u.jobId, fraction: u.fraction, message: u.message })));
  }

  async getStatus({ ids }: GetStatusOptions): Promise<(StatusRecord | null)[]> {
    return this.status.get(ids);
  }

  async listQueues({ throughputMinutes }: ListQueuesOptions = {}): Promise<QueueInfo[]> {
    const infos = await queueCounts(this.sqs, this.queues, this.flow?.store);
    return this.control ? this.control.addTo(infos, throughputMinutes) : infos;
  }

  /** One round trip, the queues and their dead-letter queues, the status store; creates nothing (`diagnose.ts`). */
  diagnose(options: DiagnoseOptions): Promise<Diagnosis> {
    return diagnoseSqs({ sqs: this.sqs, queues: this.queues, status: this.status }, options);
  }

  /** `errand migrate`: the status store's migrations (a PostgresStatusStore's); SQS itself has no schema. */
  async migrate(): Promise<MigrateResult> {
    return { applied: (await this.status.migrate?.()) ?? [] };
  }

  async listDead(options: ListDeadOptions): Promise<DeadJob[]> {
    return this.dead.list(options);
  }

  async retryDead(options: RetryDeadOptions): Promise<number> {
    return this.dead.retry(options);
  }

  async purgeDead(options: PurgeDeadOptions): Promise<number> {
    return this.dead.purge(options);
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    // Long polls end within their wait (at most 20 s); what they brought is given back.
    await this.receiver.idle();
    await this.flow?.idle();
    await this.status.close();
    if (this.ownsClient) this.sqs.destroy();
  }

  mapError(error: unknown, operation: string): Error | undefined {
    const name = errorName(error);
    // Node's socket codes are mapped by core's adapter client; these are the SDK's own.
    if (name === "TimeoutError" || name === "NetworkingError") {
      return new ConnectionError(this.name, operation, error);
    }
    return undefined;
  }
}
