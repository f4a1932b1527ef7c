// Retry rules count their own failures (issue 11, items 1 and 2): per-rule counters kept in
// the payload, unlimited attempts, and the validation of `attempts`. Run through the test
// adapter and performEnqueuedJobs, which use the real execution path.
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { JobPayload } from "../src/adapter/contract.js";
import { deadSet } from "../src/admin.js";
import { ConfigError } from "../src/errors.js";
import { retryOn } from "../src/job/decorators.js";
import { backoffMs, retryRule } from "../src/job/exceptions.js";
import "../src/index.js";
import { Job } from "../src/job/job.js";
import { definitionOf } from "../src/job/settings.js";
import { configure, type Runtime } from "../src/runtime.js";
import { clearJobs, performEnqueuedJobs } from "../src/testing/index.js";

class AError extends Error {}
class BError extends Error {}
class OtherError extends Error {}

const ERRORS = { A: AError, B: BError, other: OtherError } as const;
type Step = keyof typeof ERRORS | "ok";

/** What each rule's wait function was called with, as "A1", "B2"… */
const waits: string[] = [];
/** Retried payloads, in order. */
let retried: JobPayload[] = [];
let runtime: Runtime;

beforeEach(async () => {
  waits.length = 0;
  retried = [];
  runtime = configure({ adapter: "test", retry: { attempts: 3, wait: 1, jitter: 0 } });
  runtime.events.on("job:retry", (event) => retried.push(event.payload));
  await clearJobs();
});
afterEach(() => runtime.close());

/** Fails its n-th run with the n-th step's error; "ok" (or running out of steps) succeeds. */
class Scripted extends Job<[steps: Step[]]> {
  static override retry = [
    [AError, { attempts: 3, wait: (n: number) => (waits.push(`A${n}`), 1), jitter: 0 }],
    [BError, { attempts: 3, wait: (n: number) => (waits.push(`B${n}`), 1), jitter: 0 }],
  ];
  perform(steps: Step[]) {
    const step = steps[this.executions - 1] ?? "ok";
    if (step !== "ok") throw new ERRORS[step](`${step} on run ${this.executions}`);
    return this.executions;
  }
}

describe("per-rule attempts counters", () => {
  it("a job failing A, A, B, B under two rules of 3 attempts is retried and succeeds on run 5", async () => {
    const { jobId } = await Scripted.performLater(["A", "A", "B", "B", "ok"]);
    expect(await performEnqueuedJobs()).toBe(5);
    expect(await Scripted.status(jobId)).toMatchObject({ state: "succeeded", executions: 5 });
    // Each wait function sees its own rule's count, not the total.
    expect(waits).toEqual(["A1", "A2", "B1", "B2"]);
  });

  it("keeps the counters in the retried payload, keyed by the rule's error class names", async () => {
    await Scripted.performLater(["A", "B", "A", "ok"]);
    await performEnqueuedJobs();
    expect(retried.map((payload) => [payload.executions, payload.exceptionExecutions])).toEqual([
      [1, { AError: 1 }],
      [2, { AError: 1, BError: 1 }],
      [3, { AError: 2, BError: 1 }],
    ]);
  });

  it("a rule still ends the job when its own errors reach its attempts, whatever came between", async () => {
    const { jobId } = await Scripted.performLater(["B", "A", "B", "A", "A"]);
    expect(await performEnqueuedJobs()).toBe(5);
    const status = await Scripted.status(jobId);
    expect(status).toMatchObject({ state: "dead", executions: 5, error: { name: "AError", message: "A on run 5" } });
  });

  it("a rule over several error classes shares one counter among them", async () => {
    class Shared extends Job<[steps: Step[]]> {
      static override retry = [[[AError, BError], { attempts: 3, wait: 1 }]];
      perform(steps: Step[]) {
        throw new ERRORS[steps[this.executions - 1] as "A" | "B"]("x");
      }
    }
    const { jobId } = await Shared.performLater(["A", "B", "A", "B"]);
    expect(await performEnqueuedJobs()).toBe(3);
    expect(await Shared.status(jobId)).toMatchObject({ state: "dead", executions: 3 });
    expect(retried.at(-1)!.exceptionExecutions).toEqual({ "AError,BError": 2 });
  });

  it("errors no rule matches follow the default policy, which counts total executions", async () => {
    // Default policy here: 3 attempts. Two A failures first, so the first unmatched error is run 3.
    const { jobId } = await Scripted.performLater(["A", "A", "other"]);
    expect(await performEnqueuedJobs()).toBe(3);
    expect(await Scripted.status(jobId)).toMatchObject({ state: "dead", executions: 3, error: { name: "OtherError" } });
  });

  it("a payload that ran before but carries no counters counts total runs under its rules", async () => {
    // As written by an older release, or kept as first sent by the backend (SQS FIFO).
    const { jobId } = await Scripted.performLater(["A", "A", "B", "ok"]);
    const adapter = await runtime.adapterFor();
    const [reservation] = await adapter.reserve({ queues: ["default"], max: 1, leaseMs: 60_000, waitMs: 0, workerId: "t" });
    const body = JSON.parse(reservation!.body) as JobPayload;
    const error = { name: "AError", message: "x" };
    await adapter.settle([{ reservation: reservation!, outcome: "retry", payload: { ...body, executions: 2 }, runAt: new Date(), error }]);
    expect(await performEnqueuedJobs()).toBe(1);
    // Run 3 fails with B: counted as the third failure (total runs), so B's rule of 3 ends it.
    expect(await Scripted.status(jobId)).toMatchObject({ state: "dead", error: { name: "BError", message: "B on run 3" } });
  });

  it("a job retried from the dead set starts its counters afresh", async () => {
    const { jobId } = await Scripted.performLater(["A", "A", "A", "A", "A", "ok"]);
    expect(await performEnqueuedJobs()).toBe(3);
    expect((await Scripted.status(jobId))?.state).toBe("dead");
    expect(await deadSet().retry([jobId])).toBe(1);
    // Runs again from executions 0: A, A, A once more (its steps restart with this.executions).
    expect(await performEnqueuedJobs()).toBe(3);
    expect(waits).toEqual(["A1", "A2", "A1", "A2"]);
  });
});

describe("unlimited attempts", () => {
  it("retryOn(E, { attempts: Infinity }) retries until the job succeeds", async () => {
    class Stubborn extends Job<[]> {
      perform() {
        // Past both the default policy's 25 attempts and retryOn's default 5.
        if (this.executions < 30) throw new AError(`run ${this.executions}`);
        return this.executions;
      }
    }
    retryOn(AError, { attempts: Infinity, wait: 1 })(Stubborn);
    const { jobId } = await Stubborn.performLater();
    expect(await performEnqueuedJobs()).toBe(30);
    expect(await Stubborn.status(jobId)).toMatchObject({ state: "succeeded", executions: 30 });
    expect(retried.at(-1)!.exceptionExecutions).toEqual({ AError: 29 });
  });

  it("the static twin accepts Infinity too", async () => {
    class StubbornTwin extends Job<[]> {
      static override retry = [[AError, { attempts: Infinity, wait: 1 }]];
      perform() {
        if (this.executions < 30) throw new AError(`run ${this.executions}`);
      }
    }
    expect(definitionOf(StubbornTwin).rules[0]).toMatchObject({ kind: "retry", attempts: Infinity });
    const { jobId } = await StubbornTwin.performLater();
    expect(await performEnqueuedJobs()).toBe(30);
    expect((await StubbornTwin.status(jobId))?.state).toBe("succeeded");
  });

  it.each([0, -1, 2.5, Number.NaN, -Infinity, "3"])("attempts %s is a ConfigError naming the option", (attempts) => {
    const expected = `retryOn: attempts must be an integer >= 1 or Infinity, got ${String(attempts)}`;
    expect(() => retryRule(AError, { attempts: attempts as number })).toThrow(ConfigError);
    expect(() => retryRule(AError, { attempts: attempts as number })).toThrow(expected);
  });

  it("the static twin's bad attempts name the class", () => {
    class BadTwin extends Job<[]> {
      static override retry = [[AError, { attempts: 1.5 }]];
      perform() {}
    }
    expect(() => definitionOf(BadTwin)).toThrow("BadTwin.retry: attempts must be an integer >= 1 or Infinity, got 1.5");
  });
});

describe("retry rule options", () => {
  it("an unknown option, a bad retry queue or a bad retry priority is a ConfigError naming it", () => {
    expect(() => retryOn(AError, { attemps: 3 } as never)).toThrow('retryOn: unknown option "attemps" (expected attempts, wait, jitter, queue, priority)');
    expect(() => retryOn(AError, { queue: "" })).toThrow("retryOn: queue must be a non-empty string, got ");
    expect(() => retryOn(AError, { priority: 0.5 })).toThrow("retryOn: priority must be an integer, got 0.5");
  });
});

describe("retry rule jitter and keys", () => {
  it.each([Number.NaN, Infinity, -0.1, "0.2"])("jitter %s is a ConfigError (a NaN wait would kill the job at its first failure)", (jitter) => {
    expect(() => retryOn(AError, { jitter: jitter as number })).toThrow(`retryOn: jitter must be a finite number >= 0 (a fraction of the wait), got ${String(jitter)}`);
  });

  it("a jitter above 1 is a fraction like any other: up to that many times the wait on top", () => {
    const rule = retryRule(AError, { jitter: 2, wait: 1000 });
    expect(backoffMs(1000, rule.kind === "retry" ? rule.jitter : 0, 1, () => 0.5)).toBe(2000);
  });

  it("an anonymous error class is refused: its counter could not be told from another's", () => {
    const Anonymous = (() => class extends Error {})();
    expect(Anonymous.name).toBe("");
    expect(() => retryOn([AError, Anonymous])).toThrow(ConfigError);
    expect(() => retryOn(Anonymous)).toThrow(/retryOn: an anonymous error class cannot be retried: the rule's failure counter is keyed by its error class names/);
  });

  it("two rules over different classes of one name (a minifier's `e`) are refused; one class in two rules shares its counter", () => {
    const first = (() => class e extends Error {})();
    const second = (() => class e extends Error {})();
    class Minified extends Job<[]> {
      static override retry = [[first, { attempts: 2 }], [second, { attempts: 3 }]];
      perform() {}
    }
    expect(() => definitionOf(Minified)).toThrow('Minified: two retry rules over different error classes named "e" would share one failure counter');
    class Parent extends Job<[]> {
      static override retry = [[first, { attempts: 2 }]];
      perform() {}
    }
    class Child extends Parent {
      static override retry = [[first, { attempts: 5 }]];
    }
    expect(definitionOf(Child).rules.map((rule) => (rule.kind === "retry" ? `${rule.key}:${rule.attempts}` : rule.kind))).toEqual(["e:5", "e:2"]);
  });
});
