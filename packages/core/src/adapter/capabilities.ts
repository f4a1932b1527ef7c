/**
 * What a backend can do, as data: {@link AdapterCapabilities} and the defaults every
 * adapter spreads and overrides ({@link baseCapabilities}). Core refuses what a backend
 * cannot honour before anything is sent, and the conformance suite picks its cases from
 * these; neither ever branches on an adapter's type.
 *
 * @module
 */

/** What a backend can do. Core and the conformance suite branch on these, never on types. */
export interface AdapterCapabilities {
  /** `enqueue` honours `transaction` (the job exists only if the caller's transaction commits). */
  transactionalEnqueue: boolean;
  /** Longest delay the backend can store, in ms; `Infinity` when unbounded. Longer waits are refused by core. */
  maxDelayMs: number;
  /** Priorities are honoured within a queue (lower first). */
  priorities: boolean;
  /**
   * Largest priority magnitude the backend stores exactly: priorities from `-maxPriority`
   * to `maxPriority` are accepted, others are refused by core before anything is sent.
   * `0` for a backend without priorities. Default `Number.MAX_SAFE_INTEGER`.
   */
  maxPriority: number;
  /** Jobs survive a restart of the process that enqueued them. */
  durable: boolean;
  /** Jobs are run by a worker Errand starts inside the enqueuing process (the async adapter). */
  embeddedWorker: boolean;
  /** `reserve` can wait for work (block / long-poll) instead of returning at once. */
  blockingReserve: boolean;
  /** Uniqueness (`flow.unique`) is decided atomically at enqueue. */
  unique: boolean;
  /** Concurrency limits (`flow.concurrency`) are enforced at reserve. */
  concurrencyLimits: boolean;
  /** Rate limits (`flow.rateLimit`) are enforced at reserve. */
  rateLimits: boolean;
  /**
   * Recurring ticks (`flow.recurring`) are stored at most once per task and tick, and
   * `recurringState` reports each task's last tick.
   */
  recurring: boolean;
  /** `reserve` accepts `queues: "*"` (every queue the backend knows). */
  wildcardQueues: boolean;
  /** Largest number of payloads one `enqueue` call accepts; core splits larger batches. */
  maxBatchSize: number;
  /** Largest serialized payload in bytes; `Infinity` when unbounded. Larger payloads are refused by core. */
  maxPayloadBytes: number;
  /** Ordering groups (`set({ group })`): jobs of one group run one at a time, in order. */
  groups: boolean;
  /**
   * Largest local buffer a worker's adaptive prefetch grows to (a `prefetch` set by the app
   * is kept as it is). Backends whose reserve and settle cost much per call, and little per
   * job in the call, ask for more. Default 200.
   */
  maxPrefetch: number;
  /**
   * Job statuses live only in this process's memory while the jobs themselves live in a
   * shared backend, so other processes (a web process calling `Job.status(id)`) cannot see
   * them: the SQS adapter without a shared status store. A worker warns at start. Set per
   * instance, from the adapter's options. Default false.
   */
  localStatus: boolean;
  /**
   * `openStatusFeed` is implemented: the backend tells this process when job statuses
   * change (Redis pub/sub, PostgreSQL LISTEN/NOTIFY, in-process events). Core opens one
   * feed per adapter per process and fans it out to every watcher; without one, watchers
   * poll. Default false.
   */
  statusFeed: boolean;
  /**
   * `listJobs` is implemented, and `listQueues` fills `succeeded`, `failed` and `latencyMs`
   * (`control.ts`). Default false.
   */
  listJobs: boolean;
  /**
   * `changeJobs`, `pauseQueues`, `heartbeat` and `listWorkers` are implemented, `listQueues`
   * fills `paused` and, when asked, `throughput`, and `reserve` honours `except`
   * (`control.ts`). Default false.
   */
  control: boolean;
  /**
   * `openBatches`, `sealBatches` and `getBatches` are implemented, and `enqueue`, `settle`
   * and `retryDead` count the jobs of a batch and enqueue its callbacks, each at most once
   * (`batch.ts`). Default false.
   */
  batches: boolean;
}

/** Capabilities of a backend that supports nothing optional; spread and override. */
export const baseCapabilities: AdapterCapabilities = Object.freeze({
  transactionalEnqueue: false,
  maxDelayMs: Infinity,
  priorities: true,
  maxPriority: Number.MAX_SAFE_INTEGER,
  durable: false,
  embeddedWorker: false,
  blockingReserve: false,
  unique: false,
  concurrencyLimits: false,
  rateLimits: false,
  recurring: false,
  wildcardQueues: false,
  maxBatchSize: Infinity,
  maxPayloadBytes: Infinity,
  groups: false,
  maxPrefetch: 200,
  localStatus: false,
  statusFeed: false,
  listJobs: false,
  control: false,
  batches: false,
});
