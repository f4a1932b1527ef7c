import { describe, expect, it } from "vitest";

import { toMs } from "../src/duration.js";
import { InvalidDurationError } from "../src/errors.js";

describe("toMs", () => {
  it.each([
    [1500, 1500],
    ["90s", 90_000],
    ["10m", 600_000],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
    ["1w", 604_800_000],
    ["250ms", 250],
    ["1.5s", 1500],
    [{ minutes: 10 }, 600_000],
    [{ hours: 1, minutes: 30 }, 5_400_000],
    [{ weeks: 1, days: 1, seconds: 1, milliseconds: 1 }, 691_201_001],
  ])("%j is %d ms", (value, expected) => {
    expect(toMs(value)).toBe(expected);
  });

  it.each([["10 minutes"], ["-5s"], [-1], [Number.NaN], [Infinity], [{ minutes: -1 }], [{ fortnights: 1 }], [{}], [null], [[]]])(
    "refuses %j with an error naming the value and the option",
    (value) => {
      expect(() => toMs(value as never, "set({ wait })")).toThrow(InvalidDurationError);
      try {
        toMs(value as never, "set({ wait })");
      } catch (error) {
        expect((error as Error).message).toMatch(/^set\(\{ wait \}\): .* is not a duration; use milliseconds/);
        expect((error as InvalidDurationError).code).toBe("ERR_INVALID_DURATION");
      }
    },
  );

  it("names a bad string value verbatim", () => {
    expect(() => toMs("10 minutes", "wait")).toThrow('wait: "10 minutes" is not a duration');
  });
});
