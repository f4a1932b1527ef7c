// The shape of the watch harness a page exposes as `globalThis.errandHarness` (pages/watch.ts),
// shared by the page and the Node side that drives it (../watch-page.ts).
import type { JobStatusJSON, WatchOptions } from "@errand/client";

/** The options a test can send the page: `watchJob`'s, minus the functions and the signal. */
export type HarnessOptions = Omit<WatchOptions, "onUpdate" | "signal" | "EventSource" | "fetch">;

/** One `watchJob` call in the page, as far as it got. */
export interface HarnessRun {
  /** What `onUpdate` received, in order. */
  updates: JobStatusJSON[];
  /** True once the promise settled. */
  settled: boolean;
  /** The status it resolved with. */
  result: JobStatusJSON | null;
  /** What it rejected with. */
  error: { name: string; message: string; status?: number; code?: string; isWatchError: boolean } | null;
}

/** `globalThis.errandHarness`. */
export interface Harness {
  /** Starts `watchJob(url, options)`; returns the run's number. */
  start(url: string, options: HarnessOptions): number;
  read(run: number): HarnessRun;
  /** Aborts the run's signal. */
  abort(run: number): void;
  /** From now on, records the delay of every `setTimeout` the page sets (the client's timers). */
  traceTimers(): void;
  /** The delays recorded since `traceTimers()`, in ms, in order. */
  timerDelays(): number[];
}
