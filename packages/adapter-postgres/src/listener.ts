/**
 * LISTEN/NOTIFY wake-ups. Enqueues `pg_notify(channel, queue)` for jobs due now; idle
 * workers waiting in `reserve` are woken at once instead of at their next poll. NOTIFY only
 * nudges: a waiting reserve also wakes at its timeout and polls, so a lost notification
 * (or a dropped listener connection) delays work by at most one poll interval.
 *
 * States: idle (no waiter ever asked) → listening, on the adapter's LISTEN connection
 * (`listen-connection.ts`, shared with a status feed, which reconnects by itself) → closed.
 * Waiters are woken on every change that may have hidden a notification (the connection
 * lost, and back), so nothing waits blind.
 *
 * Waiting and marks are core's `WakeSignal`: no notification falls between a reserve's
 * query and its wait.
 *
 * @module
 */
import { WakeSignal } from "@errand/core/adapter";

import type { ListenConnection, Subscription } from "./listen-connection.js";

/** A subscription to the wake channel that wakes waiters. */
export class Listener {
  private subscription: Subscription | undefined;
  private readonly signal = new WakeSignal();
  private closed = false;

  constructor(
    private readonly connection: ListenConnection,
    private readonly channel: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Starts listening if not yet; never rejects (the connection retries in the background). */
  ensure(): void {
    if (this.closed || this.subscription) return;
    const wakeAll = () => this.signal.notify(undefined);
    this.subscription = this.connection.listen(this.channel, {
      message: (queue) => this.signal.notify(queue),
      reconnected: wakeAll,
      lost: wakeAll,
    });
    // Anything enqueued before we listened was missed: let waiters look.
    this.subscription.ready.then(wakeAll, (error: unknown) => {
      if (!this.closed) this.onError(error);
    });
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
    this.ensure();
    return this.signal.wait(queues, ms, signal, since);
  }

  /** Stops listening and wakes every waiter. */
  async close(): Promise<void> {
    this.closed = true;
    this.signal.close();
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.end();
  }
}
