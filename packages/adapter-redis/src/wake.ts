/**
 * Wake-ups over pub/sub. Scripts that make work due (an enqueue, a release, a retry due
 * now, a revived dead job) PUBLISH the queue's name on `<prefix>:wake`; an idle worker
 * waiting in `reserve` is woken at once instead of at its next look. The subscription
 * lives on its own connection (a subscribed connection can do nothing else), so a waiting
 * worker never holds up enqueues.
 *
 * States: idle (nobody waited yet) → subscribing → subscribed → (connection lost: ioredis
 * reconnects and subscribes again) → subscribed … → closed. Waiters are woken whenever the
 * subscription is (re)established, since a message may have been missed while it was down;
 * a waiting reserve also looks again at its timeout, so a lost message costs at most one
 * wait. Waiting and marks are core's `WakeSignal`: no message falls between a reserve's
 * scripts and its wait.
 *
 * @module
 */
import { WakeSignal } from "@errand/core/adapter";
import type { Cluster, Redis } from "ioredis";

/** A subscription to one wake channel that wakes waiting reserves. */
export class WakeChannel {
  private subscriber: Redis | Cluster | undefined;
  private subscribed: Promise<unknown> | undefined;
  private readonly signal = new WakeSignal();
  private closed = false;

  constructor(
    private readonly connect: () => Redis | Cluster,
    private readonly channel: string,
    private readonly onError: (error: unknown) => void,
    /** Called with the queue of each message, before waiters wake. */
    private readonly onMessage: (queue: string) => void = () => undefined,
  ) {}

  /** Subscribes if not yet; never rejects (ioredis retries in the background). */
  private ensure(): void {
    if (this.closed || this.subscriber) return;
    const subscriber = this.connect();
    this.subscriber = subscriber;
    subscriber.on("message", (channel: string, message: string) => {
      if (channel !== this.channel) return;
      this.onMessage(message);
      this.signal.notify(message);
    });
    subscriber.on("error", (error: unknown) => this.onError(error));
    // After a reconnect ioredis subscribes again by itself; anything published meanwhile was missed.
    subscriber.on("ready", () => this.signal.notify(undefined));
    this.subscribed = subscriber.subscribe(this.channel).then(
      () => this.signal.notify(undefined),
      (error: unknown) => this.onError(error),
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

  /** Unsubscribes, closes the connection and wakes every waiter. */
  async close(): Promise<void> {
    this.closed = true;
    this.signal.close();
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (!subscriber) return;
    await this.subscribed;
    await subscriber.quit().catch(() => subscriber.disconnect());
  }
}
