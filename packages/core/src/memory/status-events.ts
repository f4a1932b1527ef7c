/**
 * The in-memory status feed: who listens to the status changes of one `MemoryStatusStore`
 * (and so of the memory store, the async, test and inline adapters, and `LocalStatusStore`).
 *
 * States: quiet (no listener: the store does no work for the feed, one property read per
 * change) → listening (changed ids are collected, synchronously, into the open batch) →
 * a batch is open from the first change after a delivery until the microtask that
 * delivers it: every listener is called once with the batch's ids, however many jobs (a
 * bulk enqueue of 1,000 jobs is one call of 1,000 ids, not 1,000 calls) → listening.
 * A listener removed before the delivery hears nothing of that batch.
 *
 * @module
 */
import type { StatusFeed, StatusFeedOptions } from "../adapter/contract.js";

type Listener = (ids: readonly string[]) => void;

/** Listeners to one status store's changes, fed in microtask batches. */
export class StatusEvents {
  private readonly listeners = new Set<Listener>();
  private batch: Set<string> | undefined;

  /** True while someone listens: only then do stores report changes. */
  get active(): boolean {
    return this.listeners.size > 0;
  }

  /** A job's status changed; delivered with the others of this turn in a microtask. */
  changed(id: string): void {
    if (this.listeners.size === 0) return;
    if (this.batch === undefined) {
      this.batch = new Set();
      queueMicrotask(this.deliver);
    }
    this.batch.add(id);
  }

  private readonly deliver = (): void => {
    const batch = this.batch;
    this.batch = undefined;
    if (!batch || batch.size === 0) return;
    const ids = [...batch];
    let failure: { error: unknown } | undefined;
    // One listener's exception does not keep the batch from the others; the first is
    // rethrown afterwards (an uncaught exception, as from an event listener), never lost.
    for (const listener of [...this.listeners]) {
      try {
        listener(ids);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  };

  /** Calls `listener` with every batch of changed ids until the returned function is called. */
  listen(listener: Listener): () => void {
    // A wrapper per call, so the same function listening twice is two listeners.
    const entry: Listener = (ids) => listener(ids);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /**
   * A status feed over these events (`Adapter.openStatusFeed`, `StatusStore.openFeed`):
   * in process, so it never disconnects and `onReconnect` is never called.
   */
  async open(options: StatusFeedOptions): Promise<StatusFeed> {
    if (typeof options?.onChange !== "function" || typeof options.onReconnect !== "function") {
      throw new TypeError("openStatusFeed: give { onChange(ids), onReconnect() }");
    }
    const stop = this.listen((ids) => options.onChange(ids));
    return { close: async () => stop() };
  }
}
