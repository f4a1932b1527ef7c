// Which ticks a scheduler check enqueues (recurring/scheduler.ts `dueTicks`): a wake late by
// less than CATCH_UP_MS catches every missed tick up in order; longer gaps, and a first check
// without a floor (`missed: "latest"`), coalesce into the latest due tick.
import { describe, expect, it } from "vitest";

import { cronSchedule, everySchedule } from "../src/recurring/schedule.js";
import { CATCH_UP_MS, dueTicks } from "../src/recurring/scheduler.js";

const at = (iso: string) => Date.parse(iso);
const isos = (ticks: number[]) => ticks.map((tick) => new Date(tick).toISOString());
const everySecond = everySchedule("1s", "t");

describe("dueTicks", () => {
  it("on time: the one tick just due", () => {
    expect(isos(dueTicks(everySecond, at("2026-12-03T12:00:00Z"), at("2026-12-03T12:00:01.002Z")))).toEqual(["2026-12-03T12:00:01.000Z"]);
  });

  it("nothing above the floor: nothing", () => {
    expect(dueTicks(everySecond, at("2026-12-03T12:00:01Z"), at("2026-12-03T12:00:01.900Z"))).toEqual([]);
  });

  it("a wake 3.5 s late: the three missed ticks, oldest first", () => {
    expect(isos(dueTicks(everySecond, at("2026-12-03T12:00:00Z"), at("2026-12-03T12:00:03.500Z")))).toEqual([
      "2026-12-03T12:00:01.000Z",
      "2026-12-03T12:00:02.000Z",
      "2026-12-03T12:00:03.000Z",
    ]);
  });

  it("a floor that is a start time, not a tick: the ticks after it", () => {
    expect(isos(dueTicks(everySecond, at("2026-12-03T12:00:00.400Z"), at("2026-12-03T12:00:02.100Z")))).toEqual([
      "2026-12-03T12:00:01.000Z",
      "2026-12-03T12:00:02.000Z",
    ]);
  });

  it("a gap longer than the window: only the ticks inside it", () => {
    const now = at("2026-12-03T13:00:00.500Z");
    const ticks = dueTicks(everySecond, at("2026-12-03T12:00:00Z"), now);
    expect(ticks).toHaveLength(CATCH_UP_MS / 1000);
    expect(ticks[0]).toBe(now - 500 - CATCH_UP_MS + 1000);
    expect(ticks.at(-1)).toBe(at("2026-12-03T13:00:00Z"));
  });

  it("an hourly cron asleep for three hours: the latest due tick alone", () => {
    const hourly = cronSchedule("0 * * * *", undefined, "t");
    expect(isos(dueTicks(hourly, at("2026-12-03T09:00:00Z"), at("2026-12-03T12:20:00Z")))).toEqual(["2026-12-03T12:00:00.000Z"]);
  });

  it("no floor yet (missed: latest): the latest due tick alone, however many are in the window", () => {
    expect(isos(dueTicks(everySecond, -Infinity, at("2026-12-03T12:00:03.500Z")))).toEqual(["2026-12-03T12:00:03.000Z"]);
  });
});
