/**
 * Wake-ups for a backend's waiting `reserve`, shared by the adapters that are nudged by
 * their server (PostgreSQL's LISTEN/NOTIFY, Redis pub/sub): the transport calls
 * `notify(queue)` for each message, `notify(undefined)` whenever messages may have been
 * missed (a (re)connect), and a reserve waits with `wait`.
 *
 * No message falls between a reserve and its wait: every notification bumps a counter, a
 * reserve notes it (`mark()`) before it looks for work, and `wait(…, since)` returns at
 * once when a notification for its queues came after that mark. (Without it, a job
 * enqueued while an empty reserve was in flight waited a whole poll interval: 1 s at the
 * p99 of the PostgreSQL latency bench.)
 *
 * @module
 */

type Waiter = (queue: string | undefined) => void;

/** Notifications per queue, and waiters for them. */
export class WakeSignal {
  private readonly waiters = new Set<Waiter>();
  private generation = 0;
  private readonly lastByQueue = new Map<string, number>();
  private lastForAll = 0;
  private closed = false;

  /** Work may be due on `queue`, or on any queue when `undefined`. Wakes matching waiters. */
  notify(queue: string | undefined): void {
    this.generation++;
    if (queue === undefined) this.lastForAll = this.generation;
    else this.lastByQueue.set(queue, this.generation);
    for (const waiter of [...this.waiters]) waiter(queue);
  }

  /** The current generation: pass it to {@link wait} to hear of notifications from now on. */
  mark(): number {
    return this.generation;
  }

  private notifiedSince(queues: readonly string[] | "*", since: number): boolean {
    if (this.lastForAll > since) return true;
    if (queues === "*") return this.generation > since;
    return queues.some((queue) => (this.lastByQueue.get(queue) ?? 0) > since);
  }

  /**
   * Resolves when a notification for one of `queues` (any, for "*") arrives, after `ms`,
   * or when `signal` aborts — at once if one arrived after generation `since`, or after
   * {@link close}.
   */
  wait(queues: readonly string[] | "*", ms: number, signal?: AbortSignal, since = this.generation): Promise<void> {
    if (this.closed || signal?.aborted || this.notifiedSince(queues, since)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const waiter: Waiter = (queue) => {
        if (queue === undefined || queues === "*" || queues.includes(queue)) done();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.waiters.add(waiter);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** Wakes every waiter; later waits return at once. */
  close(): void {
    this.closed = true;
    this.notify(undefined);
  }
}
