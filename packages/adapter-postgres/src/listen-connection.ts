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
 * A channel listened to with `presence` (a status channel) also holds, on this connection, a
 * shared session lock on the channel's 16 presence slots, taken after its LISTEN: writers
 * NOTIFY it only while someone holds them (migration 005 says why and how). Taking them waits
 * for the writers that found no one there to commit; they go with the connection, and are
 * taken again after a reconnection, before `reconnected`.
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

/** Takes the channel's presence slots (see migration 005): blocks until writers that found them free commit. */
const HOLD_PRESENCE = "SELECT count(pg_advisory_lock_shared(hashtext($1), slot)) FROM generate_series(0, 15) AS slot";
const RELEASE_PRESENCE = "SELECT count(pg_advisory_unlock_shared(hashtext($1), slot)) FROM generate_series(0, 15) AS slot";

/**
 * Runs a handler outside pg's message handling: an exception (a feed callback's bug) would
 * otherwise land in the protocol parser. It is rethrown as an uncaught exception instead, as
 * from an event listener, never lost.
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
  /** Channels whose writers look for listeners (status channels). */
  private readonly presenceChannels = new Set<string>();
  /** Presence slots taken (or being taken) on the current connection, by channel. */
  private presenceHeld = new Map<string, Promise<void>>();
  private connectedOnce = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /**
   * Subscribes `handlers` to `channel`. The handlers stay subscribed, through reconnections,
   * until `end`. With `presence`, the connection holds the channel's presence slots too.
   */
  listen(channel: string, handlers: ChannelHandlers, options: { presence?: boolean } = {}): Subscription {
    if (this.closed) return { ready: Promise.reject(new Error("postgres listener: closed")), end: async () => undefined };
    let set = this.channels.get(channel);
    if (!set) this.channels.set(channel, (set = new Set()));
    set.add(handlers);
    if (options.presence) this.presenceChannels.add(channel);
    const ready = this.ensure().then(async (client) => {
      // Also when the connection LISTENed already: this confirms the channel for this caller.
      await client.query(`LISTEN ${quote(channel)}`);
      if (this.presenceChannels.has(channel)) await this.holdPresence(client, channel);
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

  /** Takes `channel`'s presence slots on `client`, once per connection. */
  private holdPresence(client: pg.Client, channel: string): Promise<void> {
    let held = this.presenceHeld.get(channel);
    if (!held) {
      const map = this.presenceHeld;
      held = client.query(HOLD_PRESENCE, [channel]).then(() => undefined);
      map.set(channel, held);
      held.catch(() => map.delete(channel));
    }
    return held;
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
      if (set) for (const handlers of [...set]) guarded(() => handlers.message(message.payload ?? ""));
    });
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, undefined));
    try {
      await client.connect();
      const channels = [...this.channels.keys()];
      if (channels.length > 0) await client.query(channels.map((channel) => `LISTEN ${quote(channel)}`).join("; "));
      this.presenceHeld = new Map();
      for (const channel of channels) if (this.presenceChannels.has(channel)) await this.holdPresence(client, channel);
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
      for (const set of this.channels.values()) for (const handlers of [...set]) if (this.live.has(handlers)) guarded(() => handlers.reconnected());
    }
    this.connectedOnce = true;
    return client;
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.client === client) {
      this.client = undefined;
      // The server released the session's locks with it.
      this.presenceHeld = new Map();
    }
    if (this.closed || this.channels.size === 0) return;
    if (error) this.onError(error);
    for (const set of this.channels.values()) for (const handlers of [...set]) guarded(() => handlers.lost?.());
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
    this.presenceChannels.delete(channel);
    const held = this.presenceHeld.get(channel);
    this.presenceHeld.delete(channel);
    const client = this.client;
    if (this.channels.size === 0) {
      // Nothing left to hear: end the connection (its locks go with it). The next one is a first connection.
      this.client = undefined;
      this.presenceHeld = new Map();
      this.connectedOnce = false;
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      await client?.end().catch(() => undefined);
      return;
    }
    await client?.query(`UNLISTEN ${quote(channel)}`).catch(() => undefined);
    // Writers stop sending once the slots are free (taken or not, they are released once).
    if (held) await held.then(() => client?.query(RELEASE_PRESENCE, [channel])).catch(() => undefined);
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
