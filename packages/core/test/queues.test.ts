import { describe, expect, it } from "vitest";

import { ConfigError } from "../src/errors.js";
import { describeQueues, parseQueues, queueOrder } from "../src/worker/queues.js";

describe("queue selection", () => {
  it("parses Sidekiq-style weights from a string or several flags", () => {
    expect(parseQueues("critical,2 default,1")).toEqual({
      queues: [
        { name: "critical", weight: 2 },
        { name: "default", weight: 1 },
      ],
      weighted: true,
    });
    expect(parseQueues(["critical,3", "default low"])).toEqual({
      queues: [
        { name: "critical", weight: 3 },
        { name: "default", weight: 1 },
        { name: "low", weight: 1 },
      ],
      weighted: true,
    });
    expect(parseQueues("*")).toBe("*");
    expect(parseQueues(undefined, "default")).toEqual({ queues: [{ name: "default", weight: 1 }], weighted: false });
  });

  it.each([["critical,0"], ["a,b"], ["a,,1"], ["a a"], [""], ["x *"]])("refuses %j with the entry named", (input) => {
    expect(() => parseQueues(input)).toThrow(ConfigError);
  });

  it("unweighted queues are tried strictly in order", () => {
    const selection = parseQueues("a b c");
    for (let i = 0; i < 10; i++) expect(queueOrder(selection)).toEqual(["a", "b", "c"]);
  });

  it("weighted queues come first in proportion to their weight, and every queue is always tried", () => {
    const selection = parseQueues("critical,3 default,1");
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const firsts = { critical: 0, default: 0 };
    for (let i = 0; i < 4000; i++) {
      const order = queueOrder(selection, random) as string[];
      expect([...order].sort()).toEqual(["critical", "default"]);
      firsts[order[0] as "critical" | "default"]++;
    }
    expect(firsts.critical / 4000).toBeGreaterThan(0.7);
    expect(firsts.critical / 4000).toBeLessThan(0.8);
  });

  it("describes itself for logs", () => {
    expect(describeQueues(parseQueues("critical,2 default"))).toBe("critical,2 default,1");
    expect(describeQueues(parseQueues("a b"))).toBe("a b");
  });
});
