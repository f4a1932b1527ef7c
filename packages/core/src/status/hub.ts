/**
 * The status hub: one per adapter per process, shared by every watcher of that adapter
 * (`watchStatus`, each open Server-Sent Events stream). It holds the process's one backend
 * subscription and fans it out.
 *
 * State machine:
 *
 * - `idle` — no watcher, no feed. The first `watch` moves to `opening`.
 * - `opening` — the adapter's feed is being opened (`openStatusFeed`; an adapter without
 *   the `statusFeed` capability gets a poll timer instead). Watchers added meanwhile wait.
 *   When it opens: `open`, and every watched job is read (a change before the feed was up
 *   would otherwise be missed). When it fails: every waiting watcher fails with the error,
 *   and the hub is `idle` again (the next watcher tries again).
 * - `open` — the feed reports ids; those that someone watches are marked dirty and read in
 *   one batch. `onReconnect` marks every watched job dirty. When the last watcher leaves,
 *   the feed lingers (`LINGER_MS`), so a page reload does not pay for a new subscription;
 *   a watcher arriving then cancels the linger. When it runs out: the feed closes, `idle`.
 * - `closed` — the adapter client closed: watchers end with `AdapterClosedError`. Final.
 *
 * Reads: at most one batch in flight (chunks of `READ_CHUNK` ids run side by side), so
 * every watcher sees a job's statuses in the order they were read. Ids changing while a
 * batch is in flight wait for the next one: a job reporting progress 1,000 times a second
 * is read once per batch, latest wins. A failed read keeps its ids dirty and is tried
 * again after a backoff (250 ms doubling to 5 s); watchers that have had a status wait,
 * and those still waiting for their first fail with the error (nothing to show yet).
 *
 * @module
 */
import type { StatusFeed, StatusRecord } from "../adapter/contract.js";
import type { AdapterClient } from "../backends/client.js";
import { AdapterClosedError } from "../errors.js";
import { StatusSnapshot } from "./snapshot.js";

/** How long a feed stays open after its last watcher left. */
const LINGER_MS = 2_000;
/** Ids per `getStatus` call; a batch of 10,000 changed jobs is 20 calls side by side. */
const READ_CHUNK = 500;
/** Without a feed, how often watched jobs are read. */
const POLL_MS = 1_000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;

/** What the hub hands a watcher: a snapshot, the end of the job's status, or a failure. */
export interface WatchSink {
  /** A status read after the watcher registered (not necessarily a new one). */
  deliver(snapshot: StatusSnapshot): void;
  /** The job has no status (unknown id, or expired and removed). */
  missing(): void;
  /** The watch cannot go on (the feed could not open, the adapter closed). */
  fail(error: Error): void;
}

type HubState = "idle" | "opening" | "open" | "closed";

/** Fans one adapter's status feed out to every watcher in this process. */
export class StatusHub {
  private state: HubState = "idle";
  private readonly watchers = new Map<string, Set<WatchSink>>();
  /** Watchers that have had no answer yet: a failed read fails them rather than keep them waiting. */
  private readonly fresh = new Set<WatchSink>();
  private feed: StatusFeed | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private opening: Promise<void> | undefined;
  private dirty = new Set<string>();
  private reading = false;
  private readScheduled = false;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly client: AdapterClient) {}

  /** Jobs watched right now, and watchers in all (for tests, benches and dashboards). */
  get size(): { jobs: number; watchers: number } {
    let watchers = 0;
    for (const sinks of this.watchers.values()) watchers += sinks.size;
    return { jobs: this.watchers.size, watchers };
  }

  /**
   * Registers a watcher of `jobId`. Its first delivery is the job's current status (or
   * `missing`); then each change. Returns the function that unregisters it.
   */
  watch(jobId: string, sink: WatchSink): () => void {
    if (this.state === "closed") {
      sink.fail(new AdapterClosedError(this.client.name, "watchStatus"));
      return () => {};
    }
    let sinks = this.watchers.get(jobId);
    if (!sinks) this.watchers.set(jobId, (sinks = new Set()));
    sinks.add(sink);
    this.fresh.add(sink);
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    if (this.state === "open") this.markDirty([jobId]);
    else if (this.state === "idle") void this.open();
    return () => this.unwatch(jobId, sink);
  }

  private unwatch(jobId: string, sink: WatchSink): void {
    const sinks = this.watchers.get(jobId);
    this.fresh.delete(sink);
    if (!sinks?.delete(sink)) return;
    if (sinks.size > 0) return;
    this.watchers.delete(jobId);
    this.dirty.delete(jobId);
    if (this.watchers.size === 0 && this.state === "open" && !this.lingerTimer) {
      this.lingerTimer = setTimeout(() => void this.linger(), LINGER_MS);
      this.lingerTimer.unref();
    }
  }

  private async open(): Promise<void> {
    this.state = "opening";
    const opening = this.openFeed();
    this.opening = opening;
    try {
      await opening;
    } catch (error) {
      this.opening = undefined;
      if (this.isClosed()) return;
      this.state = "idle";
      const sinks = [...this.watchers.values()].flatMap((set) => [...set]);
      this.watchers.clear();
      this.fresh.clear();
      for (const sink of sinks) sink.fail(error as Error);
      return;
    }
    this.opening = undefined;
    if (this.isClosed()) {
      await this.stopFeed();
      return;
    }
    this.state = "open";
    if (this.watchers.size === 0) {
      this.lingerTimer = setTimeout(() => void this.linger(), LINGER_MS);
      this.lingerTimer.unref();
      return;
    }
    this.markDirty(this.watchers.keys());
  }

  /** Read through a method: `close()` may change the state while `open()` awaits. */
  private isClosed(): boolean {
    return this.state === "closed";
  }

  private async openFeed(): Promise<void> {
    if (!this.client.capabilities.statusFeed) {
      this.pollTimer = setInterval(() => this.markDirty(this.watchers.keys()), POLL_MS);
      this.pollTimer.unref();
      return;
    }
    this.feed = await this.client.openStatusFeed({
      onChange: (ids) => this.markDirty(ids),
      onReconnect: () => this.markDirty(this.watchers.keys()),
    });
  }

  private async linger(): Promise<void> {
    this.lingerTimer = undefined;
    if (this.watchers.size > 0 || this.state !== "open") return;
    this.state = "idle";
    await this.stopFeed();
  }

  private async stopFeed(): Promise<void> {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    const feed = this.feed;
    this.feed = undefined;
    // Closing a feed whose connection is already gone may fail; nothing is left to release.
    await feed?.close().catch(() => undefined);
  }

  private markDirty(ids: Iterable<string>): void {
    if (this.state !== "open") return;
    let added = false;
    for (const id of ids) {
      if (this.watchers.has(id)) {
        this.dirty.add(id);
        added = true;
      }
    }
    if (added) this.scheduleRead();
  }

  private scheduleRead(): void {
    if (this.reading || this.readScheduled || this.retryTimer) return;
    this.readScheduled = true;
    // setImmediate, not a microtask: a feed message's ids and the next ones already in the
    // socket's buffer go out in one read.
    setImmediate(() => {
      this.readScheduled = false;
      void this.read();
    });
  }

  private async read(): Promise<void> {
    if (this.state !== "open" || this.dirty.size === 0) return;
    const ids = [...this.dirty];
    this.dirty.clear();
    this.reading = true;
    try {
      const chunks: string[][] = [];
      for (let i = 0; i < ids.length; i += READ_CHUNK) chunks.push(ids.slice(i, i + READ_CHUNK));
      const records = (await Promise.all(chunks.map((chunk) => this.client.getStatus(chunk)))).flat();
      this.retryMs = RETRY_MIN_MS;
      for (let i = 0; i < ids.length; i++) this.deliver(ids[i]!, records[i] ?? null);
    } catch (error) {
      if (this.state !== "open") return;
      // A watcher still waiting for its first status learns the backend is unreachable
      // (the status handler answers 503); the others keep waiting while reads are retried.
      for (const id of ids) for (const sink of [...(this.watchers.get(id) ?? [])]) if (this.fresh.has(sink)) sink.fail(error as Error);
      for (const id of ids) if (this.watchers.has(id)) this.dirty.add(id);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.scheduleRead();
      }, this.retryMs);
      this.retryTimer.unref();
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    } finally {
      this.reading = false;
      if (this.dirty.size > 0) this.scheduleRead();
    }
  }

  private deliver(id: string, record: StatusRecord | null): void {
    const sinks = this.watchers.get(id);
    if (!sinks) return;
    const snapshot = record ? new StatusSnapshot(record) : null;
    for (const sink of [...sinks]) {
      this.fresh.delete(sink);
      if (snapshot) sink.deliver(snapshot);
      else sink.missing();
    }
  }

  /** Ends every watcher (`AdapterClosedError`) and closes the feed. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    const wasOpening = this.opening;
    this.state = "closed";
    for (const timer of [this.lingerTimer, this.retryTimer]) if (timer) clearTimeout(timer);
    const sinks = [...this.watchers.values()].flatMap((set) => [...set]);
    this.watchers.clear();
    this.fresh.clear();
    this.dirty.clear();
    const error = new AdapterClosedError(this.client.name, "watchStatus");
    for (const sink of sinks) sink.fail(error);
    if (wasOpening) await wasOpening.catch(() => undefined);
    await this.stopFeed();
  }
}

const HUBS = new WeakMap<AdapterClient, StatusHub>();

/** The hub of an adapter client, created at first use and closed with the client. */
export function hubFor(client: AdapterClient): StatusHub {
  let hub = HUBS.get(client);
  if (!hub) {
    const created = new StatusHub(client);
    HUBS.set(client, created);
    client.beforeClose(() => created.close());
    hub = created;
  }
  return hub;
}
