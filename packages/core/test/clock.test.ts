import { performance } from "node:perf_hooks";

import { afterEach, describe, expect, it, vi } from "vitest";

import { wallClockAt } from "../src/clock.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("wallClockAt", () => {
  it("places a monotonic reading on the system clock: now less the time elapsed since", () => {
    const reading = performance.now() - 250;
    const before = Date.now();
    const at = wallClockAt(reading).getTime();
    const after = Date.now();
    expect(at).toBeGreaterThanOrEqual(before - 250 - 5);
    expect(at).toBeLessThanOrEqual(after - 250 + 5);
  });

  it("follows the system clock when it is stepped (timeOrigin + now would stay an hour off)", () => {
    const reading = performance.now();
    // Only Date is faked: the monotonic clock goes on, as when NTP or a VM steps the clock.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 3_600_000);
    const at = wallClockAt(reading).getTime();
    expect(Math.abs(at - Date.now())).toBeLessThan(1_000);
    expect(Math.abs(at - (performance.timeOrigin + reading))).toBeGreaterThan(3_000_000);
  });
});
