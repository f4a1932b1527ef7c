/**
 * When a recurring task's ticks fall: a cron expression in a time zone (parsed and
 * stepped by croner, which handles DST), or a fixed interval aligned to the Unix epoch.
 * Both are pure functions of the wall clock, so every worker computes the same ticks
 * without talking to the others: that is what lets the backend keep one job per tick.
 *
 * @module
 */
import { Cron } from "croner";

import { toMs, type Duration } from "../duration.js";
import { ConfigError } from "../errors.js";

/** Shortest `every`: one tick a second (a cron with seconds is as fine as this gets). */
export const MIN_EVERY_MS = 1000;

/** The ticks of one task. Times are epoch milliseconds. */
export interface Schedule {
  /** `cron "0 3 * * *" (Europe/Berlin)` or `every 10m`, for listings. */
  readonly description: string;
  /** The time zone of a cron schedule (`"UTC"` when none was given); undefined for `every`. */
  readonly tz: string | undefined;
  /** The first tick strictly after `after`, or null when there is none (a cron with a year past). */
  next(after: number): number | null;
  /** The last tick at or before `at`, or null when there is none. */
  latest(at: number): number | null;
}

/**
 * A cron schedule. Five fields (minute precision) or six (seconds first), croner's syntax
 * (`L`, `W`, `#`, names, `@daily`…). Day of month and day of week combine with OR, as in
 * Vixie cron. In a time zone with DST, croner's rules apply: a fixed time that falls in
 * the spring gap (`30 2 * * *` in Europe/Berlin) runs at the first valid time after it
 * (03:00), a fixed time that occurs twice in the autumn runs once (the first), and an
 * interval pattern (`*\/30 * * * *`) skips the gap and runs in both repeated hours.
 * @param what - names the task in errors.
 * @throws ConfigError for a bad expression, an unknown time zone, or one that never fires.
 */
export function cronSchedule(expression: string, tz: string | undefined, what: string): Schedule {
  if (tz !== undefined) checkTimeZone(tz, what);
  let cron: Cron;
  try {
    cron = new Cron(expression, { paused: true, ...(tz === undefined ? {} : { timezone: tz }), mode: "5-or-6-parts" });
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^CronPattern:\s*/, "") : String(error);
    throw new ConfigError(`${what}: cron ${JSON.stringify(expression)} is not a valid cron expression (${reason})`);
  }
  if (cron.nextRun(new Date()) === null) throw new ConfigError(`${what}: cron ${JSON.stringify(expression)} never fires`);
  const zone = tz ?? "UTC";
  return {
    description: `cron ${JSON.stringify(expression)} (${zone})`,
    tz: zone,
    next: (after) => cron.nextRun(new Date(after))?.getTime() ?? null,
    // croner's previousRuns is exclusive of its reference (ms precision): a tick at `at` counts.
    latest: (at) => cron.previousRuns(1, new Date(at + 1))[0]?.getTime() ?? null,
  };
}

/**
 * A fixed interval: ticks at every multiple of it since the Unix epoch (UTC), so
 * `every: "10m"` ticks at :00, :10, :20… and `"1d"` at midnight UTC, whichever worker
 * computes them and whenever it started. A time zone does not apply (use `cron` for a
 * local time of day).
 * @throws ConfigError for a bad duration or one under {@link MIN_EVERY_MS}.
 */
export function everySchedule(every: Duration, what: string): Schedule {
  let ms: number;
  try {
    ms = toMs(every, `${what}: every`);
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
  if (!Number.isInteger(ms) || ms < MIN_EVERY_MS) {
    throw new ConfigError(`${what}: every must be a whole number of milliseconds of at least 1s, got ${JSON.stringify(every)}`);
  }
  return {
    description: `every ${typeof every === "object" ? JSON.stringify(every) : String(every)}`,
    tz: undefined,
    next: (after) => (Math.floor(after / ms) + 1) * ms,
    latest: (at) => Math.floor(at / ms) * ms,
  };
}

/** An IANA zone name the runtime knows (`Europe/Berlin`, `UTC`). */
function checkTimeZone(tz: string, what: string): void {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
  } catch {
    throw new ConfigError(`${what}: tz ${JSON.stringify(tz)} is not a known time zone (use an IANA name such as "Europe/Berlin" or "UTC")`);
  }
}
