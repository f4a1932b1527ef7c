/**
 * Wake-ups over pub/sub. Scripts that make work due (an enqueue, a release, a retry due
 * now, a revived dead job) PUBLISH the queue's name on `<prefix>:wake`; an idle worker
 * waiting in `reserve` is woken at once instead of at its next look. The subscription
 * lives on the adapter's pub/sub connection (`subscriber.ts`, shared with a status feed),
 * so a waiting worker never holds up enqueues.
 *
 * States: idle (nobody waited yet) → subscribing → subscribed → (connection lost: it
 * reconnects and subscribes again) → subscribed … → closed. Waiters are woken whenever the
 * subscription is (re)established, since a message may have been missed while it was down;
 * a waiting reserve also looks again at its timeout, so a lost message costs at most one
 * wait. A failed subscription is tried again by the next wait. Waiting and marks are core's
 * `WakeSignal`: no message falls between a reserve's scripts and its wait.
 *
 * @module
 */
import { WakeSignal } from "@errand/core/adapter";

import type { Subscriber } from "./subscriber.js";

/** A subscription to one wake channel that wakes waiting reserves. */
export class WakeChannel {
  private subscribed: Promise<unknown> | undefined;
  private readonly signal = new WakeSignal();
  private closed = false;

  constructor(
    private readonly subscriber: Subscriber,
    private readonly channel: string,
    private readonly onError: (error: unknown) => void,
    /** Called with the queue of each message, before waiters wake. */
    private readonly onMessage: (queue: string) => void = () => undefined,
  ) {}

  /** Subscribes if not yet; never rejects (a failure is reported, and the next wait tries again). */
  private ensure(): void {
    if (this.closed || this.subscribed) return;
    this.subscribed = this.subscriber
      .subscribe(this.channel, {
        message: (queue) => {
          this.onMessage(queue);
          this.signal.notify(queue);
        },
        // Anything published while the connection was down was missed.
        reconnected: () => this.signal.notify(undefined),
      })
      .then(
        () => this.signal.notify(undefined),
        (error: unknown) => {
          this.subscribed = undefined;
          if (!this.closed) this.onError(error);
        },
      );
  }

  /** The current generation: pass it to {@link wait} to hear of messages from now on. */
  mark(): number {
    return this.signal.mark();
  }

  /**
   * Resolves when a message for one of `queues` (any, for "*") arrives, after `ms`, or
   * when `signal` aborts — at once if one arrived after generation `since`.
   */
  wait(queues: readonly string[] | "*", ms: number, signal: AbortSignal | undefined, since: number): Promise<void> {
    this.ensure();
    return this.signal.wait(queues, ms, signal, since);
  }

  /** Wakes every waiter and stops listening; the adapter closes the shared connection (`Subscriber.close`). */
  close(): void {
    this.closed = true;
    this.signal.close();
    this.subscribed = undefined;
  }
}
