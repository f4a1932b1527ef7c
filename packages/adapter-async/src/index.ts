/**
 * `@errand/adapter-async`: jobs run on a pool inside the app process, as Rails' async
 * adapter. For development: no server, no separate worker command — Errand starts the
 * pool (core's worker loop) the first time the app enqueues.
 *
 * Every payload is serialized to the wire format and parsed back before it runs, so a
 * serialization problem shows in development, not first in production. Jobs live in core's
 * `MemoryStore`, the store of the test and inline adapters too, so the three behave alike.
 *
 * **Pending jobs are lost when the process exits.** Use Redis, PostgreSQL or SQS for
 * anything that must survive a restart.
 *
 * @example
 * import { configure } from "@errand/core";
 * configure({ adapter: { use: "async" }, worker: { concurrency: 5 } });
 *
 * @module
 */
import {
  MemoryAdapter,
  memoryCapabilities,
  rules,
  validateOptions,
  type AdapterCapabilities,
  type AdapterFactory,
  type MemoryStatusOptions,
  type MemoryStoreOptions,
  type OptionSchema,
  type Reservation,
  type ReserveOptions,
} from "@errand/core/adapter";

/** Options of the async adapter (`adapter: { use: "async", ...options }`). */
export type AsyncAdapterOptions = MemoryStoreOptions;

const OPTIONS: OptionSchema<AsyncAdapterOptions> = {
  maxDead: rules.integer(0),
  statuses: rules.object({ maxFinished: rules.integer(0), finishedTtlMs: rules.number(0) } satisfies OptionSchema<MemoryStatusOptions>),
};

/** The in-process, in-memory adapter: core's in-memory store, and a reserve that waits for work. */
export class AsyncAdapter extends MemoryAdapter {
  readonly name = "async";
  /** The in-memory store's, a reserve that waits, the embedded worker, and the operator's members (listing, control). */
  override readonly capabilities: AdapterCapabilities = { ...memoryCapabilities, embeddedWorker: true, blockingReserve: true, listJobs: true, control: true };
  private closed = false;

  /** @throws ConfigError for an unknown option or a value of the wrong kind, naming it. */
  constructor(options: AsyncAdapterOptions = {}) {
    validateOptions(options, OPTIONS, "the async adapter options");
    super(options);
  }

  override async reserve({ queues, except, max, leaseMs, waitMs, signal }: ReserveOptions): Promise<Reservation[]> {
    let taken = this.store.take(queues, max, leaseMs, except);
    const deadline = Date.now() + waitMs;
    while (taken.length === 0 && !signal?.aborted && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await this.store.wait(left, signal);
      if (this.closed) break;
      taken = this.store.take(queues, max, leaseMs, except);
    }
    return taken;
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.store.clear();
  }
}

/** Factory Errand calls for `adapter: "async"`. */
export const createAdapter: AdapterFactory = (options) => new AsyncAdapter(options as AsyncAdapterOptions);
