/**
 * Durations as users write them: milliseconds, `"90s"`, `"10m"`, `"2h"`, `"1d"`, `"1w"`,
 * or `{ minutes: 10 }`.
 *
 * @module
 */
import { InvalidDurationError } from "./errors.js";

/** An object duration; the parts are added up. */
export interface DurationObject {
  weeks?: number;
  days?: number;
  hours?: number;
  minutes?: number;
  seconds?: number;
  milliseconds?: number;
}

/** Milliseconds (number), a string such as `"90s"`, `"10m"`, `"2h"`, `"1d"`, `"1w"`, `"500ms"`, or a {@link DurationObject}. */
export type Duration = number | string | DurationObject;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const OBJECT_MS: Record<keyof DurationObject, number> = {
  weeks: UNIT_MS.w!,
  days: UNIT_MS.d!,
  hours: UNIT_MS.h!,
  minutes: UNIT_MS.m!,
  seconds: UNIT_MS.s!,
  milliseconds: 1,
};

const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/;

/**
 * Converts a {@link Duration} to milliseconds.
 * @param where - names the option in the error message (`"set({ wait })"`).
 * @throws InvalidDurationError for negative, non-finite or unknown values.
 */
export function toMs(value: Duration, where = "duration"): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value;
    throw new InvalidDurationError(value, where);
  }
  if (typeof value === "string") {
    const match = PATTERN.exec(value);
    if (match) return Number(match[1]) * UNIT_MS[match[2]!]!;
    throw new InvalidDurationError(value, where);
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    let total = 0;
    let parts = 0;
    for (const [key, amount] of Object.entries(value)) {
      const unit = OBJECT_MS[key as keyof DurationObject];
      if (unit === undefined || typeof amount !== "number" || !Number.isFinite(amount) || amount < 0) {
        throw new InvalidDurationError(value, where);
      }
      total += amount * unit;
      parts++;
    }
    if (parts > 0) return total;
  }
  throw new InvalidDurationError(value, where);
}
