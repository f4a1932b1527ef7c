/**
 * One watcher of one job: the hub delivers snapshots into it, its consumer (an async
 * iterator, an SSE stream) pulls them out.
 *
 * State machine: `watching` → (`finished` once a terminal status is queued | `failed` on
 * an error, a missing job or the signal) → `ended` when its consumer has taken everything
 * queued, or calls `close()`. It unregisters from the hub on the way out of `watching`, so
 * a finished or abandoned watcher costs the hub nothing.
 *
 * The queue between hub and consumer: a snapshot equal to the last one queued (same
 * version) is dropped; one in the same state as the last queued one replaces it (a burst of
 * progress: latest wins, a slow consumer never falls behind); a new state is appended, so
 * every state change is seen. A job cannot change state without end (it finishes), but a
 * retry loop read by a stalled consumer could: past `MAX_QUEUED` the oldest entry goes.
 *
 * @module
 */
import type { AdapterClient } from "../backends/client.js";
import { JobNotFoundError } from "../errors.js";
import { hubFor, type WatchSink } from "./hub.js";
import type { StatusSnapshot } from "./snapshot.js";

/** States queued for a consumer that is not reading (queued → running → retrying … needs ~4). */
const MAX_QUEUED = 32;

/** Watches one job through its adapter's hub. */
export class SnapshotWatcher implements WatchSink {
  private readonly queue: StatusSnapshot[] = [];
  private lastVersion: string | undefined;
  private error: Error | undefined;
  private done = false;
  private wake: (() => void) | undefined;
  private readonly unregister: () => void;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    private readonly client: AdapterClient,
    /** The watched job. */
    readonly jobId: string,
    private readonly signal?: AbortSignal,
    /** The version the consumer already has (an SSE `Last-Event-ID`): not delivered again. */
    knownVersion?: string,
  ) {
    this.lastVersion = knownVersion;
    if (signal?.aborted) {
      this.error = abortReason(signal);
      this.unregister = () => {};
      return;
    }
    this.unregister = hubFor(client).watch(jobId, this);
    if (signal) {
      this.onAbort = () => this.fail(abortReason(signal));
      signal.addEventListener("abort", this.onAbort, { once: true });
    }
  }

  /** @internal from the hub */
  deliver(snapshot: StatusSnapshot): void {
    if (this.done || this.error || snapshot.version === this.lastVersion) return;
    this.lastVersion = snapshot.version;
    const last = this.queue.at(-1);
    if (last && last.state === snapshot.state) this.queue[this.queue.length - 1] = snapshot;
    else this.queue.push(snapshot);
    if (this.queue.length > MAX_QUEUED) this.queue.shift();
    if (snapshot.finished) this.finish();
    this.wake?.();
  }

  /** @internal from the hub */
  missing(): void {
    this.fail(new JobNotFoundError(this.jobId, this.client.name));
  }

  /** @internal from the hub */
  fail(error: Error): void {
    if (this.done || this.error) return;
    this.error = error;
    this.finish();
    this.wake?.();
  }

  /** Current status first (unless its version is the known one), then each change; `undefined` at the end. */
  async next(): Promise<StatusSnapshot | undefined> {
    for (;;) {
      const snapshot = this.queue.shift();
      if (snapshot) return snapshot;
      if (this.error) throw this.error;
      if (this.done) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** Stops watching; queued snapshots are dropped. */
  close(): void {
    this.queue.length = 0;
    this.done = true;
    this.finish();
    this.wake?.();
  }

  private finish(): void {
    this.done = true;
    this.unregister();
    if (this.onAbort) this.signal?.removeEventListener("abort", this.onAbort);
  }
}

/** What a signal aborted with, as an Error (`AbortError` when it gave none). */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new DOMException(reason === undefined ? "This operation was aborted" : String(reason), "AbortError");
}
