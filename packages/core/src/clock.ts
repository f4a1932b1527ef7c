/**
 * Wall-clock times of moments measured on the monotonic clock.
 *
 * Core times a run with `performance.now()` (cheap, never jumps). `performance.timeOrigin +
 * now` is not a wall-clock time: the monotonic clock drifts from the system clock (NTP slews
 * it, a VM's clock is stepped), by milliseconds within a minute on CI. An attempt's start
 * computed that way came out before its job's `enqueuedAt` (read with `Date.now()`) and the
 * dashboard's timeline listed "Attempt 1 started" before "Enqueued" (2026-12-04).
 *
 * @module
 */
import { performance } from "node:perf_hooks";

/**
 * The wall-clock time of `monotonicMs` (a `performance.now()` reading): now on the system
 * clock less the time elapsed since, so it lines up with `Date.now()` readings around it.
 */
export function wallClockAt(monotonicMs: number): Date {
  return new Date(Date.now() - (performance.now() - monotonicMs));
}
