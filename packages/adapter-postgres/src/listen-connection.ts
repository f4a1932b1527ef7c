/**
 * One LISTEN connection shared by the channels of an adapter (its wake channel, the status
 * channel of a status feed) or of a status store: one connection per adapter, not one per
 * channel. A connection that LISTENs can still run statements, but a pooled one would be
 * handed to others; this one is dedicated.
 *
 * States: idle (no channel, no connection) → connecting (connect, then LISTEN every channel
 * held) → listening → (connection lost: each channel's `lost` is called) → reconnecting
 * after a backoff (100 ms doubling to 5 s) → listening again: every channel is LISTENed
 * anew, then each subscription's `reconnected` is called, so it hears of the reconnection
 * only once notifications flow again … → idle (last channel gone: the connection is ended,
 * and the next one is a first connection) or closed.
 *
 * A subscription counts as connected once its own LISTEN was confirmed (`ready`); only then
 * does a later reconnection concern it.
 *
 * @module
 */
import pg from "pg";

/** What a subscription hears. */
export interface ChannelHandlers {
  /** A notification's payload. */
  message(payload: string): void;
  /** The connection was lost and is back, the channel LISTENed again: notifications in between were missed. */
  reconnected(): void;
  /** The connection was lost (it reconnects by itself). */
  lost?(): void;
}

/** A subscription to one channel. */
export interface Subscription {
  /** Resolves once the server confirmed the LISTEN; rejects if the connection could not be made. */
  ready: Promise<void>;
  /** Ends the subscription (UNLISTEN, or the connection when it was the last). */
  end(): Promise<void>;
}

/** `channel` quoted as an identifier. */
function quote(channel: string): string {
  return `"${channel.replace(/"/g, '""')}"`;
}

/** The shared LISTEN connection; see the module notes. */
export class ListenConnection {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private readonly channels = new Map<string, Set<ChannelHandlers>>();
  private readonly live = new WeakSet<ChannelHandlers>();
  private connectedOnce = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Subscribes `handlers` to `channel`. The handlers stay subscribed, through reconnections, until `end`. */
  listen(channel: string, handlers: ChannelHandlers): Subscription {
    if (this.closed) return { ready: Promise.reject(new Error("postgres listener: closed")), end: async () => undefined };
    let set = this.channels.get(channel);
    if (!set) this.channels.set(channel, (set = new Set()));
    set.add(handlers);
    const ready = this.ensure().then(async (client) => {
      // Also when the connection LISTENed already: this confirms the channel for this caller.
      await client.query(`LISTEN ${quote(channel)}`);
      this.live.add(handlers);
    });
    let ended = false;
    return {
      ready,
      end: async () => {
        if (ended) return;
        ended = true;
        await this.remove(channel, handlers);
      },
    };
  }

  private ensure(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    if (this.closed) throw new Error("postgres listener: closed");
    const client = new pg.Client(this.connection);
    client.on("notification", (message) => {
      const set = this.channels.get(message.channel);
      if (set) for (const handlers of [...set]) handlers.message(message.payload ?? "");
    });
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, undefined));
    try {
      await client.connect();
      const channels = [...this.channels.keys()];
      if (channels.length > 0) await client.query(channels.map((channel) => `LISTEN ${quote(channel)}`).join("; "));
    } catch (error) {
      client.removeAllListeners("end");
      await client.end().catch(() => undefined);
      this.lost(client, error);
      throw error;
    }
    if (this.closed || this.channels.size === 0) {
      await client.end().catch(() => undefined);
      throw new Error("postgres listener: closed");
    }
    this.client = client;
    this.failures = 0;
    if (this.connectedOnce) {
      for (const set of this.channels.values()) for (const handlers of [...set]) if (this.live.has(handlers)) handlers.reconnected();
    }
    this.connectedOnce = true;
    return client;
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.client === client) this.client = undefined;
    if (this.closed || this.channels.size === 0) return;
    if (error) this.onError(error);
    for (const set of this.channels.values()) for (const handlers of [...set]) handlers.lost?.();
    if (this.retryTimer) return;
    const delay = Math.min(5000, 100 * 2 ** this.failures++);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed && this.channels.size > 0 && !this.client) this.ensure().catch(() => undefined);
    }, delay);
    this.retryTimer.unref();
  }

  private async remove(channel: string, handlers: ChannelHandlers): Promise<void> {
    const set = this.channels.get(channel);
    if (!set?.delete(handlers) || set.size > 0) return;
    this.channels.delete(channel);
    const client = this.client;
    if (this.channels.size === 0) {
      // Nothing left to hear: end the connection. The next one is a first connection.
      this.client = undefined;
      this.connectedOnce = false;
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      await client?.end().catch(() => undefined);
      return;
    }
    await client?.query(`UNLISTEN ${quote(channel)}`).catch(() => undefined);
  }

  /** Ends every subscription and the connection. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.channels.clear();
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
