/**
 * A job's status as a Server-Sent Events stream: `retry:` once, then `id: <version>`,
 * `event: status`, `data: <JobStatusJSON>` per change, a comment as heartbeat, and the end
 * right after a terminal status.
 *
 * The stream is pull-based (`highWaterMark` 1): the next status is taken from the watcher
 * only when the previous one has been handed to the socket, so a slow client holds at most
 * one event while its watcher coalesces the rest (latest progress wins, no state lost).
 *
 * Heartbeats come from one timer per handler for all its streams, not one per stream:
 * 10,000 open streams cost one interval, and a write to a dead connection makes the
 * server notice it is gone. The streams take turns: each joins one of up to 60 slots
 * (round robin), and the timer beats one slot per tick, so every stream still hears one
 * heartbeat per interval but they are never written all at once.
 *
 * @module
 */
import type { StatusSnapshot } from "../status/snapshot.js";
import type { SnapshotWatcher } from "../status/watcher.js";

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(": hb\n\n");
/**
 * The heartbeat timer ticks about this often (15 s interval: 60 slots, a 60th of the
 * streams every 250 ms). All at once, 10,000 streams' heartbeats held every event back for
 * up to 0.8 s (bench/realtime, 10,000 streams: delivery p99 551 ms, 95 ms with no
 * heartbeat in the window); 167 at a time take a few ms.
 */
const HEARTBEAT_TICK_MS = 250;
const MAX_HEARTBEAT_SLOTS = 60;

interface Entry {
  heartbeat(): void;
  end(): void;
  /** The heartbeat slot it is in. */
  slot: number;
}

/** Each snapshot's event bytes, encoded once however many streams carry it. */
const EVENTS = new WeakMap<StatusSnapshot, Uint8Array>();

/** The bytes of one status event (the same array for every stream: never written to). */
export function statusEvent(snapshot: StatusSnapshot): Uint8Array {
  let bytes = EVENTS.get(snapshot);
  if (!bytes) {
    bytes = encoder.encode(`id: ${snapshot.version}\nevent: status\ndata: ${snapshot.text}\n\n`);
    EVENTS.set(snapshot, bytes);
  }
  return bytes;
}

/** The open streams of one handler, and the one timer that keeps them alive. */
export class StreamRegistry {
  private readonly streams = new Set<Entry>();
  /** The streams by heartbeat slot; the timer beats `slots[tick]`, then moves on. */
  private readonly slots: Set<Entry>[];
  private nextSlot = 0;
  private tick = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly heartbeatMs: number) {
    const count = Math.min(MAX_HEARTBEAT_SLOTS, Math.max(1, Math.round(heartbeatMs / HEARTBEAT_TICK_MS)));
    this.slots = Array.from({ length: count }, () => new Set<Entry>());
  }

  /** How many streams are open. */
  get size(): number {
    return this.streams.size;
  }

  /**
   * A stream for `watcher`, starting with `first` unless it is the version the client
   * already has (`knownVersion`, from `Last-Event-ID`).
   */
  open(watcher: SnapshotWatcher, first: StatusSnapshot, retryMs: number, knownVersion?: string): ReadableStream<Uint8Array> {
    const streams = this.streams;
    let entry: Entry | undefined;
    let pending: StatusSnapshot | undefined = first.version === knownVersion ? undefined : first;
    let ended = first.finished && pending === undefined;
    const leave = () => {
      if (!entry) return;
      streams.delete(entry);
      this.slots[entry.slot]!.delete(entry);
      entry = undefined;
      watcher.close();
      if (streams.size === 0) this.stopTimer();
    };
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          controller.enqueue(encoder.encode(`retry: ${retryMs}\n\n`));
          entry = {
            slot: this.nextSlot,
            heartbeat: () => {
              try {
                controller.enqueue(HEARTBEAT);
              } catch {
                leave();
              }
            },
            end: () => {
              leave();
              try {
                controller.close();
              } catch {
                // already closed or cancelled
              }
            },
          };
          streams.add(entry);
          this.slots[entry.slot]!.add(entry);
          this.nextSlot = (this.nextSlot + 1) % this.slots.length;
          this.startTimer();
        },
        pull: async (controller) => {
          if (ended) {
            entry?.end();
            return;
          }
          let snapshot = pending;
          pending = undefined;
          try {
            snapshot ??= await watcher.next();
          } catch {
            // The watch broke (the job's status expired, the runtime closed): end the
            // stream; the client reconnects and learns why from the status code.
            snapshot = undefined;
          }
          if (!entry) return;
          if (!snapshot) {
            entry.end();
            return;
          }
          controller.enqueue(statusEvent(snapshot));
          if (snapshot.finished) ended = true;
        },
        cancel: () => leave(),
      },
      { highWaterMark: 1 },
    );
  }

  /** Ends every open stream (the server is shutting down). */
  closeAll(): void {
    for (const entry of [...this.streams]) entry.end();
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      const slot = this.slots[this.tick]!;
      this.tick = (this.tick + 1) % this.slots.length;
      for (const entry of [...slot]) entry.heartbeat();
    }, this.heartbeatMs / this.slots.length);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
