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
 * Waiting and marks are core's `WakeSignal`: no notification falls between a reserve's
 * query and its wait.
 *
 * @module
 */
import pg from "pg";

import { WakeSignal } from "@errand/core/adapter";

/** A dedicated connection that LISTENs on one channel and wakes waiters. */
export class Listener {
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private readonly signal = new WakeSignal();
  private closed = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;

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
      void this.ensure();
    }, delay);
    this.retryTimer.unref();
  }

  private wake(queue: string | undefined): void {
    this.signal.notify(queue);
  }

  /** The current generation: pass it to {@link wait} to hear of notifications from now on. */
  mark(): number {
    return this.signal.mark();
  }

  /**
   * Resolves when a notification for one of `queues` (or any, for "*") arrives, after
   * `ms`, or when `signal` aborts — at once if one arrived after generation `since`.
   */
  wait(queues: readonly string[] | "*", ms: number, signal: AbortSignal | undefined, since = this.signal.mark()): Promise<void> {
    void this.ensure();
    return this.signal.wait(queues, ms, signal, since);
  }

  /** Stops listening and wakes every waiter. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.signal.close();
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
