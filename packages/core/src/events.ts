/**
 * Typed `noun:verb` events. Tests and apps await these instead of sleeping.
 *
 * @module
 */
import { EventEmitter } from "node:events";
import type { JobPayload, StoredError } from "./adapter/contract.js";

/** Every event Errand emits, with its argument. */
export interface ErrandEvents {
  /** A job was stored by its backend. */
  "job:enqueue": { payload: JobPayload; providerJobId: string; adapter: string; duplicate: boolean };
  /** A worker began running a job. */
  "job:start": { payload: JobPayload; workerId: string };
  /** A job's perform reported progress. */
  "job:progress": { payload: JobPayload; fraction: number; message?: string };
  /** A job succeeded. */
  "job:complete": { payload: JobPayload; result: unknown; durationMs: number; workerId: string };
  /** A job failed and is scheduled to run again. */
  "job:retry": { payload: JobPayload; error: unknown; runAt: Date; workerId: string };
  /** A job failed and was dropped by a `discardOn` rule. */
  "job:discard": { payload: JobPayload; error: unknown; workerId: string };
  /** A job went to the dead set (attempts exhausted, malformed, unknown class). */
  "job:dead": { payload?: JobPayload; providerJobId: string; error: StoredError; workerId: string };
  /** A worker started. */
  "worker:start": { workerId: string; queues: string; concurrency: number };
  /** A worker has nothing running, nothing buffered, and its last reserve found nothing. */
  "worker:idle": { workerId: string };
  /** The queues paused everywhere changed, as this worker's heartbeat read them: it leaves them out of its reserves from now on. */
  "worker:paused": { workerId: string; queues: string[] };
  /** A worker stopped; `released` jobs were handed back to the backend. */
  "worker:stop": { workerId: string; released: number };
  /**
   * A worker started in a setup that works but is likely not what was meant; `code` is
   * stable (`ERRAND_LOCAL_STATUS`: statuses only in this process). Without a listener the
   * worker writes it as a process warning instead (stderr), so it is never lost.
   */
  "worker:warning": { workerId: string; code: string; message: string };
  /**
   * A worker's recurring scheduler enqueued a task's tick. `duplicate`: the backend had
   * stored that tick (or a later one) already, from another worker; `jobId` is then the
   * stored job's. Failures are `worker:error`s.
   */
  "recurring:tick": { workerId: string; task: string; tick: Date; jobId: string; duplicate: boolean };
  /** Something went wrong outside a job (a backend call, a lease renewal); the worker goes on. */
  "worker:error": { workerId: string; error: unknown };
  /** An adapter call finished (successfully or not). */
  "adapter:call": { adapter: string; operation: string; durationMs: number; count: number; error?: unknown };
}

/** Name of an Errand event. */
export type ErrandEventName = keyof ErrandEvents;

/** A typed event emitter. `emit` does nothing (and allocates nothing) without listeners. */
export class TypedEmitter<Events extends object> {
  private readonly emitter = new EventEmitter({ captureRejections: false });

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  /** Calls `listener` for every `event`. Returns a function that removes it. */
  on<K extends keyof Events & string>(event: K, listener: (arg: Events[K]) => void): () => void {
    this.emitter.on(event, listener as (arg: unknown) => void);
    return () => this.off(event, listener);
  }

  /** Calls `listener` for the next `event` only. */
  once<K extends keyof Events & string>(event: K, listener: (arg: Events[K]) => void): () => void {
    this.emitter.once(event, listener as (arg: unknown) => void);
    return () => this.off(event, listener);
  }

  /** Removes a listener. */
  off<K extends keyof Events & string>(event: K, listener: (arg: Events[K]) => void): void {
    this.emitter.off(event, listener as (arg: unknown) => void);
  }

  /** True when someone listens to `event`: callers skip building the argument otherwise. */
  has(event: keyof Events & string): boolean {
    return this.emitter.listenerCount(event) > 0;
  }

  /** Emits `event`. A throwing listener does not disturb the emitter's caller. */
  emit<K extends keyof Events & string>(event: K, arg: Events[K]): void {
    if (this.emitter.listenerCount(event) === 0) return;
    try {
      this.emitter.emit(event, arg);
    } catch (error) {
      // A listener's bug must not stop a worker mid-settlement; report it and go on.
      process.emitWarning(error instanceof Error ? error : String(error), { code: "ERRAND_LISTENER" });
    }
  }
}
