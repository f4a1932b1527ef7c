/**
 * LISTEN/NOTIFY wake-ups. Enqueues `pg_notify(channel, queue)` for jobs due now; idle
 * workers waiting in `reserve` are woken at once instead of at their next poll. NOTIFY only
 * nudges: a waiting reserve also wakes at its timeout and polls, so a lost notification
 * (or a dropped listener connection) delays work by at most one poll interval.
 *
 * States: idle (no waiter ever asked) → connecting → listening → (connection lost) →
 * reconnecting after a backoff → listening … → closed. Waiters are woken on every state
 * change that may have hidden a notification (a reconnect), so nothing waits blind.
 *
 * No notification falls between a reserve and its wait: every notification bumps a
 * counter, a reserve notes the counter (`mark()`) before its query, and `wait(…, since)`
 * returns at once when a notification for its queues came after that mark. (Without it, a
 * job enqueued while the empty reserve was in flight waited a whole poll interval: 1 s at
 * the p99 of the latency bench.)
 *
 * @module
 */
import pg from "pg";

type Waiter = (queue: string | undefined) => void;

/** A dedicated connection that LISTENs on one channel and wakes waiters. */
export class Listener {
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private readonly waiters = new Set<Waiter>();
  private closed = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Notifications seen so far (and reconnects, which may have hidden some). */
  private generation = 0;
  /** The generation of the last notification per queue. */
  private readonly lastByQueue = new Map<string, number>();
  /** The generation of the last wake-up for every queue (a reconnect). */
  private lastForAll = 0;

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly channel: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Starts listening if not yet; never rejects (a failure is retried in the background). */
  ensure(): Promise<void> {
    if (this.closed || this.client) return Promise.resolve();
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.connection);
    client.on("notification", (message) => this.wake(message.payload));
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, undefined));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
      if (this.closed) {
        await client.end().catch(() => undefined);
        return;
      }
      this.client = client;
      this.failures = 0;
      // Anything enqueued while we were not listening was missed: let waiters look.
      this.wake(undefined);
    } catch (error) {
      client.removeAllListeners("end");
      await client.end().catch(() => undefined);
      this.lost(client, error);
    }
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.client === client) this.client = undefined;
    if (this.closed) return;
    if (error) this.onError(error);
    this.wake(undefined);
    if (this.retryTimer) return;
    const delay = Math.min(5000, 100 * 2 ** this.failures++);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.waiters.size > 0) void this.ensure();
    }, delay);
    this.retryTimer.unref();
  }

  private wake(queue: string | undefined): void {
    this.generation++;
    if (queue === undefined) this.lastForAll = this.generation;
    else this.lastByQueue.set(queue, this.generation);
    for (const waiter of [...this.waiters]) waiter(queue);
  }

  /** The current generation: pass it to {@link wait} to hear of notifications from now on. */
  mark(): number {
    return this.generation;
  }

  /** Whether a notification for `queues` came after generation `since`. */
  private notifiedSince(queues: readonly string[] | "*", since: number): boolean {
    if (this.lastForAll > since) return true;
    if (queues === "*") return this.generation > since;
    return queues.some((queue) => (this.lastByQueue.get(queue) ?? 0) > since);
  }

  /**
   * Resolves when a notification for one of `queues` (or any, for "*") arrives, after
   * `ms`, or when `signal` aborts — at once if one arrived after generation `since`.
   */
  wait(queues: readonly string[] | "*", ms: number, signal: AbortSignal | undefined, since = this.generation): Promise<void> {
    void this.ensure();
    if (signal?.aborted || this.notifiedSince(queues, since)) return Promise.resolve();
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

  /** Stops listening and wakes every waiter. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.wake(undefined);
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
