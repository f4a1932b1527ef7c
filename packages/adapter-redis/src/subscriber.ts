/**
 * One pub/sub connection shared by the subscriptions of an adapter (the wake channel its
 * waiting reserves listen on, the status channel of a status feed) or of a status store. A
 * subscribed connection can do nothing else, so it is a connection of its own: made when
 * the first channel is subscribed, quit when the last one is unsubscribed.
 *
 * States: idle (no channel, no connection) → connecting (SUBSCRIBE waits in ioredis's
 * offline queue) → subscribed → (connection lost) → reconnecting → subscribed again: every
 * channel is subscribed anew and then each handler's `reconnected` is called, so a handler
 * hears of the reconnection only once its messages flow again … → idle (last channel gone)
 * or closed.
 *
 * ioredis reconnects a single Redis by itself (its `retryStrategy`) and re-subscribes; its
 * `ready` event comes before that re-subscription is sent, so the SUBSCRIBE sent here on
 * `ready` is what tells when the channels are live again (a channel subscribed twice stays
 * one subscription). When a connection ends for good (the retry strategy gave up, or, on a
 * Cluster, its node is gone), a new one is made after a backoff (100 ms doubling to 5 s)
 * and counts as a reconnection.
 *
 * No ready check on this connection. ioredis sends its INFO ready check only after the
 * connection's CLIENT SETINFO calls, which first read ioredis's package.json from disk; in
 * that gap the connection is writable for commands allowed while loading, SUBSCRIBE among
 * them, so a SUBSCRIBE sent at once put the connection in subscriber mode and the late INFO
 * was refused ("Connection in subscriber mode"): the first subscribe failed. Seen under load
 * (load average 18, redis.conformance's status feed). A subscriber has no use for the check:
 * SUBSCRIBE works on a server still loading its data.
 *
 * On a Redis Cluster the connection is a plain one to a master picked at random: regular
 * PUBLISH reaches every node of a cluster, so any node hears every channel. (A `Cluster`
 * client's own subscriber moves between nodes without telling, which would leave a feed
 * unaware that messages were missed.) Its retry strategy gives up after 4 attempts, so a
 * node that left is replaced by another master.
 *
 * @module
 */
import { Redis, type Cluster } from "ioredis";

/** What a subscription hears. */
export interface ChannelHandlers {
  /** A message published on the channel. */
  message(text: string): void;
  /** The connection was lost and is back, the channel subscribed again: messages in between were missed. */
  reconnected(): void;
}

/** Makes the pub/sub connection for `client`: a duplicate of a Redis, a plain connection to a master of a Cluster. */
export function subscriberConnection(client: Redis | Cluster): () => Promise<Redis> {
  if (!client.isCluster) {
    return async () => {
      const connection = (client as Redis).duplicate({ enableReadyCheck: false });
      // An error event without a listener would crash the process; ioredis reconnects.
      connection.on("error", () => undefined);
      return connection;
    };
  }
  const cluster = client as Cluster;
  return async () => {
    // Masters are known once the cluster client has connected; a PING waits for that.
    if (cluster.nodes("master").length === 0) await cluster.ping();
    const masters = cluster.nodes("master");
    const node = masters[Math.floor(Math.random() * masters.length)];
    if (!node) throw new Error("redis cluster: no master node to subscribe on");
    const { host, port, username, password, tls } = node.options;
    const connectionName = cluster.options.redisOptions?.connectionName;
    const connection = new Redis({
      host,
      port,
      ...(connectionName === undefined ? {} : { connectionName }),
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      ...(tls === undefined ? {} : { tls }),
      retryStrategy: (times) => (times > 4 ? null : Math.min(100 * 2 ** times, 2000)),
      enableReadyCheck: false,
    });
    connection.on("error", () => undefined);
    return connection;
  };
}

/** The shared pub/sub connection of one adapter or store; see the module notes. */
export class Subscriber {
  private connection: Promise<Redis> | undefined;
  private readonly channels = new Map<string, Set<ChannelHandlers>>();
  /** Handlers whose first SUBSCRIBE was confirmed: only they hear of reconnections. */
  private readonly live = new WeakSet<ChannelHandlers>();
  /** A connection was ready once: any later `ready` (or new connection) is a reconnection. */
  private connectedOnce = false;
  private failures = 0;
  private reopenTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly open: () => Promise<Redis>) {}

  /**
   * Subscribes `handlers` to `channel`; resolves once the server has confirmed the
   * subscription, with the function that ends it.
   */
  async subscribe(channel: string, handlers: ChannelHandlers): Promise<() => Promise<void>> {
    if (this.closed) throw new Error("redis subscriber: closed");
    let set = this.channels.get(channel);
    if (!set) this.channels.set(channel, (set = new Set()));
    set.add(handlers);
    try {
      const connection = await this.ensure();
      // Once per handler, not per channel: a second subscriber to a channel whose SUBSCRIBE
      // is still in flight must wait for the server too. Redis keeps one subscription.
      await connection.subscribe(channel);
      this.live.add(handlers);
    } catch (error) {
      await this.remove(channel, handlers);
      throw error;
    }
    let ended = false;
    return async () => {
      if (ended) return;
      ended = true;
      await this.remove(channel, handlers);
    };
  }

  private ensure(): Promise<Redis> {
    if (!this.connection) {
      const connecting: Promise<Redis> = this.connect().catch((error: unknown) => {
        // Not made (a Cluster with no node to reach): the next subscribe or reopen tries again.
        if (this.connection === connecting) this.connection = undefined;
        throw error;
      });
      this.connection = connecting;
    }
    return this.connection;
  }

  private async connect(): Promise<Redis> {
    const connection = await this.open();
    connection.on("message", (channel: string, text: string) => {
      const set = this.channels.get(channel);
      if (set) for (const handlers of [...set]) guarded(() => handlers.message(text));
    });
    connection.on("ready", () => this.ready(connection));
    connection.on("end", () => this.ended(connection));
    if (this.closed) connection.disconnect();
    return connection;
  }

  private ready(connection: Redis): void {
    this.failures = 0;
    if (!this.connectedOnce) {
      this.connectedOnce = true;
      return;
    }
    const channels = [...this.channels.keys()];
    if (channels.length === 0) return;
    // Handlers still waiting for their first SUBSCRIBE get it now: theirs is no reconnection.
    const back = [...this.channels].flatMap(([channel, set]) => [...set].filter((handlers) => this.live.has(handlers)).map((handlers) => ({ channel, handlers })));
    connection.subscribe(...channels).then(
      () => {
        // Those unsubscribed meanwhile are left out.
        for (const { channel, handlers } of back) if (this.channels.get(channel)?.has(handlers)) guarded(() => handlers.reconnected());
      },
      // Lost again before the server answered: the next `ready` subscribes again.
      () => undefined,
    );
  }

  private ended(connection: Redis): void {
    void this.connection?.then((current) => {
      if (current !== connection) return;
      this.connection = undefined;
      if (this.closed || this.channels.size === 0 || this.reopenTimer) return;
      // The connection gave up: a new one (on a Cluster, maybe to another node) after a backoff.
      const delay = Math.min(5000, 100 * 2 ** this.failures++);
      this.reopenTimer = setTimeout(() => {
        this.reopenTimer = undefined;
        if (this.closed || this.channels.size === 0 || this.connection) return;
        this.ensure().catch(() => this.retryLater());
      }, delay);
      this.reopenTimer.unref();
    });
  }

  /** Making a connection failed (a Cluster without a reachable node): try again later. */
  private retryLater(): void {
    this.connection = undefined;
    if (this.closed || this.reopenTimer) return;
    const delay = Math.min(5000, 100 * 2 ** this.failures++);
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      if (!this.closed && this.channels.size > 0 && !this.connection) this.ensure().catch(() => this.retryLater());
    }, delay);
    this.reopenTimer.unref();
  }

  private async remove(channel: string, handlers: ChannelHandlers): Promise<void> {
    const set = this.channels.get(channel);
    if (!set?.delete(handlers) || set.size > 0) return;
    this.channels.delete(channel);
    const pending = this.connection;
    if (!pending) return;
    if (this.channels.size === 0) {
      // Nothing left to hear: release the connection. The next one is a first connection.
      this.connection = undefined;
      this.connectedOnce = false;
      await quit(pending);
      return;
    }
    const connection = await pending.catch(() => undefined);
    await connection?.unsubscribe(channel).catch(() => undefined);
  }

  /** Ends every subscription and the connection. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reopenTimer);
    this.channels.clear();
    const pending = this.connection;
    this.connection = undefined;
    if (pending) await quit(pending);
  }
}

/**
 * Runs a handler outside ioredis's reply parsing: an exception (a feed callback's bug) would
 * otherwise land in the parser and break the connection. It is rethrown as an uncaught
 * exception instead, as from an event listener, never lost.
 */
function guarded(handler: () => void): void {
  try {
    handler();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

async function quit(pending: Promise<Redis>): Promise<void> {
  const connection = await pending.catch(() => undefined);
  if (!connection) return;
  await connection.quit().catch(() => connection.disconnect());
}
