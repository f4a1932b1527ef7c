// Next-tick computation of recurring tasks (recurring/schedule.ts): cron in a time zone,
// across both DST changes of Europe/Berlin in 2026 (spring forward on 29 March at 02:00 CET,
// fall back on 25 October at 03:00 CEST), and `every` aligned to the Unix epoch.
import { describe, expect, it } from "vitest";

import { ConfigError } from "../src/errors.js";
import { cronSchedule, everySchedule, type Schedule } from "../src/recurring/schedule.js";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The first `n` ticks after `from`. */
function ticks(schedule: Schedule, from: string, n: number): string[] {
  const out: string[] = [];
  let cursor = at(from);
  for (let i = 0; i < n; i++) {
    cursor = schedule.next(cursor)!;
    out.push(iso(cursor)!);
  }
  return out;
}

describe("cron", () => {
  it("reads the expression in UTC without tz, in the zone with one", () => {
    expect(ticks(cronSchedule("0 3 * * *", undefined, "t"), "2026-01-10T12:00:00Z", 2)).toEqual(["2026-01-11T03:00:00.000Z", "2026-01-12T03:00:00.000Z"]);
    // 03:00 in Berlin is 02:00 UTC in winter, 01:00 UTC in summer.
    const berlin = cronSchedule("0 3 * * *", "Europe/Berlin", "t");
    expect(ticks(berlin, "2026-01-10T12:00:00Z", 1)).toEqual(["2026-01-11T02:00:00.000Z"]);
    expect(ticks(berlin, "2026-07-10T12:00:00Z", 1)).toEqual(["2026-07-11T01:00:00.000Z"]);
  });

  it("spring forward: a daily time in the gap runs at the first valid time after it, once", () => {
    // 02:30 does not exist in Berlin on 29 March 2026 (02:00 CET → 03:00 CEST).
    const daily = cronSchedule("30 2 * * *", "Europe/Berlin", "t");
    expect(ticks(daily, "2026-03-27T12:00:00Z", 3)).toEqual([
      "2026-03-28T01:30:00.000Z", // 02:30 CET
      "2026-03-29T01:00:00.000Z", // 03:00 CEST, the first time after the gap
      "2026-03-30T00:30:00.000Z", // 02:30 CEST
    ]);
  });

  it("spring forward: an interval pattern skips the lost hour", () => {
    const halfHourly = cronSchedule("0,30 * * * *", "Europe/Berlin", "t");
    // 01:30 CET, then 03:00 CEST: 02:00 and 02:30 local never happen. UTC ticks stay 30 min apart.
    expect(ticks(halfHourly, "2026-03-29T00:15:00Z", 3)).toEqual(["2026-03-29T00:30:00.000Z", "2026-03-29T01:00:00.000Z", "2026-03-29T01:30:00.000Z"]);
  });

  it("fall back: a daily time in the repeated hour runs once, an interval pattern in both", () => {
    // 02:00–03:00 happens twice in Berlin on 25 October 2026 (CEST, then CET).
    const daily = cronSchedule("30 2 * * *", "Europe/Berlin", "t");
    expect(ticks(daily, "2026-10-23T12:00:00Z", 3)).toEqual(["2026-10-24T00:30:00.000Z", "2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"]);
    const halfHourly = cronSchedule("0,30 * * * *", "Europe/Berlin", "t");
    expect(ticks(halfHourly, "2026-10-24T23:45:00Z", 6)).toEqual([
      "2026-10-25T00:00:00.000Z", // 02:00 CEST
      "2026-10-25T00:30:00.000Z", // 02:30 CEST
      "2026-10-25T01:00:00.000Z", // 02:00 CET
      "2026-10-25T01:30:00.000Z", // 02:30 CET
      "2026-10-25T02:00:00.000Z", // 03:00 CET
      "2026-10-25T02:30:00.000Z",
    ]);
  });

  it("latest is the last tick at or before the time, inclusive", () => {
    const daily = cronSchedule("30 2 * * *", "Europe/Berlin", "t");
    expect(iso(daily.latest(at("2026-03-29T01:00:00Z")))).toBe("2026-03-29T01:00:00.000Z");
    expect(iso(daily.latest(at("2026-03-29T00:59:59.999Z")))).toBe("2026-03-28T01:30:00.000Z");
    expect(iso(daily.latest(at("2026-10-26T12:00:00Z")))).toBe("2026-10-26T01:30:00.000Z");
    const seconds = cronSchedule("*/1 * * * * *", undefined, "t");
    expect(iso(seconds.latest(at("2026-01-01T00:00:00.000Z")))).toBe("2026-01-01T00:00:00.000Z");
    expect(iso(seconds.latest(at("2026-01-01T00:00:00.999Z")))).toBe("2026-01-01T00:00:00.000Z");
    expect(iso(seconds.next(at("2026-01-01T00:00:00.000Z")))).toBe("2026-01-01T00:00:01.000Z");
  });

  it.each([
    ["61 * * * *", /cron "61 \* \* \* \*" is not a valid cron expression \(Invalid value for minute: 61\)/],
    ["nope", /cron "nope" is not a valid cron expression/],
    ["0 0 1 1 * 2020", /is not a valid cron expression/],
    ["0 0 30 2 *", /cron "0 0 30 2 \*" never fires/],
  ])("refuses %j", (expression, message) => {
    expect(() => cronSchedule(expression, undefined, 'recurring task "t"')).toThrow(ConfigError);
    expect(() => cronSchedule(expression, undefined, 'recurring task "t"')).toThrow(message);
  });

  it("refuses an unknown time zone", () => {
    expect(() => cronSchedule("0 3 * * *", "Mars/Olympus", 'recurring task "t"')).toThrow(
      'recurring task "t": tz "Mars/Olympus" is not a known time zone (use an IANA name such as "Europe/Berlin" or "UTC")',
    );
  });
});

describe("every", () => {
  it("ticks at multiples of the interval since the epoch, whenever it is asked", () => {
    const tenMinutes = everySchedule("10m", "t");
    expect(ticks(tenMinutes, "2026-05-05T10:03:17.250Z", 2)).toEqual(["2026-05-05T10:10:00.000Z", "2026-05-05T10:20:00.000Z"]);
    expect(iso(tenMinutes.latest(at("2026-05-05T10:10:00.000Z")))).toBe("2026-05-05T10:10:00.000Z");
    expect(iso(tenMinutes.latest(at("2026-05-05T10:09:59.999Z")))).toBe("2026-05-05T10:00:00.000Z");
    // An interval that does not divide a day still lines up the same for every worker.
    const seven = everySchedule({ seconds: 7 }, "t");
    expect(seven.next(at("2026-05-05T10:00:00Z"))! % 7000).toBe(0);
    expect(everySchedule("1d", "t").next(at("2026-05-05T10:00:00Z"))).toBe(at("2026-05-06T00:00:00Z"));
  });

  it("refuses less than a second and what is not a duration", () => {
    expect(() => everySchedule(500, 'recurring task "t"')).toThrow('recurring task "t": every must be a whole number of milliseconds of at least 1s, got 500');
    expect(() => everySchedule("often", 'recurring task "t"')).toThrow(ConfigError);
    expect(() => everySchedule("often", 'recurring task "t"')).toThrow(/recurring task "t": every: "often" is not a duration/);
  });
});
