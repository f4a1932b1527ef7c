/**
 * The live queue counts: one poll of the backend's queue counts per interval, shared by
 * every browser that has a dashboard page open, sent to each as Server-Sent Events
 * (`event: queues`, data: the formatted counts). Ten operators with the overview open cost
 * the backend what one costs; nobody open costs nothing.
 *
 * State machine of a {@link QueueFeed}:
 *
 * - `idle` — no stream open, no timer, no snapshot kept. The first stream to open starts a
 *   read at once and the timer: `polling`.
 * - `polling` — every `intervalMs` the queues are read (never two reads at once: a tick that
 *   finds a read in flight is skipped). A read whose counts differ from the last is sent to
 *   every stream; an unchanged one is not, but a comment goes out every `HEARTBEAT_TICKS`
 *   ticks so proxies keep the streams open and dead connections are noticed. A failed read
 *   sends `event: unavailable` once, until a read succeeds again. A stream opening now gets
 *   the last snapshot at once. When the last stream closes: `idle` (the timer stops and the
 *   snapshot is dropped, being stale by the next open).
 *
 * A stream whose client reads slowly is not queued for: while its buffer holds
 * `MAX_BUFFERED` events it is skipped, and it gets the latest snapshot when it drains (each
 * event is the whole table, so nothing is lost by skipping one).
 *
 * @module
 */
import type { Backend } from "./context.js";
import { queueSnapshot, readQueues, snapshotEvent } from "./queue-counts.js";

const encoder = new TextEncoder();
/** A comment every this many unchanged ticks: 8 × 2 s default = one per 16 s, under the usual 30–60 s proxy idle timeouts. */
const HEARTBEAT_TICKS = 8;
/** Events a slow stream may hold before it is skipped. */
const MAX_BUFFERED = 4;

interface Stream {
  controller: ReadableStreamDefaultController<Uint8Array>;
  /** It was skipped while full: send it the latest when it has room. */
  behind: boolean;
  leave(): void;
}

/** One shared poll of queue counts, fanned out to every open stream of one dashboard. */
export class QueueFeed {
  private readonly streams = new Set<Stream>();
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private last: Uint8Array | undefined;
  private lastText: string | undefined;
  private quietTicks = 0;
  private failing = false;
  /** Reads done since the feed was made (for tests: one per interval, whatever the number of streams). */
  reads = 0;

  constructor(
    private readonly backend: Backend,
    private readonly intervalMs: number,
    private readonly retryMs: number,
  ) {}

  /** Streams open now. */
  get size(): number {
    return this.streams.size;
  }

  /** A new event stream; it ends when `signal` aborts, the client cancels, or {@link QueueFeed.closeAll}. */
  open(signal: AbortSignal): ReadableStream<Uint8Array> {
    let stream: Stream | undefined;
    const leave = () => {
      if (!stream) return;
      this.streams.delete(stream);
      stream = undefined;
      if (this.streams.size === 0) this.stop();
    };
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          controller.enqueue(encoder.encode(`retry: ${this.retryMs}\n\n`));
          if (this.last) controller.enqueue(this.last);
          stream = {
            controller,
            behind: false,
            leave: () => {
              leave();
              try {
                controller.close();
              } catch {
                // already closed or cancelled
              }
            },
          };
          this.streams.add(stream);
          signal.addEventListener("abort", () => stream?.leave(), { once: true });
          if (!this.timer) this.start();
        },
        pull: () => {
          if (stream?.behind && this.last) {
            stream.behind = false;
            stream.controller.enqueue(this.last);
          }
        },
        cancel: () => leave(),
      },
      { highWaterMark: MAX_BUFFERED },
    );
  }

  /** Ends every open stream (before a server closes, which waits for them). */
  closeAll(): void {
    for (const stream of [...this.streams]) stream.leave();
  }

  private start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    void this.tick();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.last = undefined;
    this.lastText = undefined;
    this.quietTicks = 0;
    this.failing = false;
  }

  private async tick(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      this.reads++;
      const { capabilities } = await this.backend.describe();
      const text = snapshotEvent(queueSnapshot(await readQueues(this.backend, capabilities)));
      if (!this.timer) return; // everyone left while reading
      this.failing = false;
      if (text === this.lastText) {
        if (++this.quietTicks >= HEARTBEAT_TICKS) this.broadcast(encoder.encode(": hb\n\n"), false);
        return;
      }
      this.lastText = text;
      this.last = encoder.encode(`event: queues\ndata: ${text}\n\n`);
      this.broadcast(this.last, true);
    } catch (error) {
      if (!this.timer || this.failing) return;
      this.failing = true;
      this.lastText = undefined;
      const message = error instanceof Error ? error.message : String(error);
      this.broadcast(encoder.encode(`event: unavailable\ndata: ${JSON.stringify({ message })}\n\n`), true);
    } finally {
      this.reading = false;
    }
  }

  private broadcast(bytes: Uint8Array, snapshot: boolean): void {
    this.quietTicks = 0;
    for (const stream of [...this.streams]) {
      const room = stream.controller.desiredSize ?? 1;
      if (room <= 0) {
        if (snapshot) stream.behind = true;
        continue;
      }
      try {
        stream.controller.enqueue(bytes);
      } catch {
        stream.leave();
      }
    }
  }
}
