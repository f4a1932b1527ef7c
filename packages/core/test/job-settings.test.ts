// Settings from decorators (applied here as functions, the way both decorator proposals
// call them) and from their static-field twins, and how subclasses inherit them.
// test/decorators.test.ts compiles real decorator syntax both ways.
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { ConfigError } from "../src/errors.js";
import {
  afterDiscard,
  beforePerform,
  discardOn,
  queueAs,
  queueWithPriority,
  rescueFrom,
  retryOn,
  timeout,
  useAdapter,
} from "../src/job/decorators.js";
import { Job } from "../src/job/job.js";
import { definitionOf } from "../src/job/settings.js";
import { configure, type Runtime } from "../src/runtime.js";
import { clearJobs, enqueuedJobs } from "../src/testing/index.js";

const legacy = (decorator: (target: Function, context?: unknown) => void, target: Function) => decorator(target);
const standard = (decorator: (target: Function, context?: unknown) => void, target: Function) =>
  decorator(target, { kind: "class", name: target.name, addInitializer() {}, metadata: undefined });

class ApiError extends Error {}
class TimeoutError extends ApiError {}
class GoneError extends Error {}

describe.each([
  ["legacy", legacy],
  ["standard", standard],
])("decorators (%s call)", (_mode, apply) => {
  it("set queue, priority, timeout and adapter; subclasses inherit and override", () => {
    class Base extends Job<[]> {
      perform() {}
    }
    apply(queueAs("reports"), Base);
    apply(queueWithPriority(5), Base);
    apply(timeout("30s"), Base);
    apply(useAdapter("sqs"), Base);
    class Child extends Base {}
    class Grandchild extends Child {}
    apply(queueWithPriority(-1), Grandchild);
    expect(definitionOf(Base)).toMatchObject({ queue: "reports", priority: 5, timeoutMs: 30_000, adapter: "sqs" });
    expect(definitionOf(Child)).toMatchObject({ queue: "reports", priority: 5, timeoutMs: 30_000 });
    expect(definitionOf(Grandchild)).toMatchObject({ queue: "reports", priority: -1 });
  });

  it("keep error rules in the order written, own before inherited", () => {
    class Base extends Job<[]> {
      perform() {}
    }
    // Written as @retryOn(ApiError) @discardOn(GoneError): decorators apply bottom-up.
    apply(discardOn(GoneError), Base);
    apply(retryOn(ApiError, { attempts: 4, wait: "exponential" }), Base);
    class Child extends Base {}
    apply(rescueFrom(TimeoutError, () => "handled"), Child);
    const rules = definitionOf(Child).rules;
    expect(rules.map((rule) => rule.kind)).toEqual(["rescue", "retry", "discard"]);
    expect(rules[1]).toMatchObject({ kind: "retry", attempts: 4, wait: "exponential", jitter: 0.15, errors: [ApiError] });
    expect(definitionOf(Base).rules.map((rule) => rule.kind)).toEqual(["retry", "discard"]);
  });
});

describe("static-field twins", () => {
  it("are read like decorators and inherited", () => {
    const handler = () => {};
    class Base extends Job<[]> {
      static override queue = "mail";
      static override priority = 3;
      static override retry = [[ApiError, { attempts: 2, wait: 100 }]] as const;
      static override discard = [GoneError];
      static override afterDiscard = handler;
      static override timeout = { minutes: 1 };
      perform() {}
    }
    class Child extends Base {
      static override queue = "mail-low";
    }
    expect(definitionOf(Child)).toMatchObject({ queue: "mail-low", priority: 3, timeoutMs: 60_000, afterDiscard: [handler] });
    expect(definitionOf(Child).rules.map((rule) => rule.kind)).toEqual(["discard", "retry"]);
  });

  it("a decorator on a subclass wins over a parent's static field, and the other way round", () => {
    class Base extends Job<[]> {
      static override queue = "from-static";
      perform() {}
    }
    class Decorated extends Base {}
    legacy(queueAs("from-decorator"), Decorated);
    class StaticAgain extends Decorated {
      static override queue = "static-again";
    }
    expect(definitionOf(Decorated).queue).toBe("from-decorator");
    expect(definitionOf(StaticAgain).queue).toBe("static-again");
  });

  it("callbacks from decorators and statics run root first, in the order written", () => {
    const a = () => {};
    const b = () => {};
    const c = () => {};
    class Base extends Job<[]> {
      static override beforePerform = [a];
      perform() {}
    }
    class Child extends Base {
      static override beforePerform = [c];
    }
    legacy(beforePerform(b), Child);
    expect(definitionOf(Child).callbacks.beforePerform).toEqual([a, b, c]);
  });

  it("bad settings are clear errors naming the class and the value", () => {
    class BadPriority extends Job<[]> {
      static override priority = 1.5;
      perform() {}
    }
    expect(() => definitionOf(BadPriority)).toThrow("BadPriority: priority must be an integer or a function, got 1.5");
    class BadTimeout extends Job<[]> {
      static override timeout = "soon";
      perform() {}
    }
    expect(() => definitionOf(BadTimeout)).toThrow('BadTimeout.timeout: "soon" is not a duration');
    class BadRetry extends Job<[]> {
      static override retry = [[ApiError, { attempts: 0 }]] as const;
      perform() {}
    }
    expect(() => definitionOf(BadRetry)).toThrow("BadRetry.retry: attempts must be an integer >= 1 or Infinity, got 0");
    expect(() => retryOn(ApiError, { wait: "10 minutes" })).toThrow(/retryOn: wait: "10 minutes" is not a duration/);
    expect(() => queueWithPriority(0.5)).toThrow(ConfigError);
    expect(() => queueWithPriority("high" as never)).toThrow("@queueWithPriority: expected an integer or a function, got high");
    expect(() => afterDiscard("nope" as never)).toThrow("@afterDiscard: the handler must be a function");
    expect(() =>
      standard(queueAs("x"), Object.assign(() => {}, {})),
    ).not.toThrow();
    expect(() => queueAs("x")(function () {}, { kind: "method" })).toThrow("@queueAs decorates job classes only, not a method");
  });
});

describe("dynamic priority", () => {
  let runtime: Runtime;
  beforeEach(async () => {
    runtime = configure({ adapter: "test" });
    await clearJobs();
  });
  afterEach(() => runtime.close());

  class Report extends Job<[plan: string]> {
    perform(_plan: string) {}
  }
  const byPlan = (job: Report) => (job.arguments[0] === "pro" ? -5 : 10);

  it.each([
    ["legacy", legacy],
    ["standard", standard],
  ])("@queueWithPriority(fn) (%s call) picks the priority from the job's arguments, subclasses too", async (_mode, apply) => {
    class Decorated extends Report {}
    apply(queueWithPriority(byPlan), Decorated);
    class Inherited extends Decorated {}
    expect((await Decorated.performLater("pro")).priority).toBe(-5);
    expect((await Decorated.performLater("free")).priority).toBe(10);
    expect((await Inherited.performLater("pro")).priority).toBe(-5);
    expect((await enqueuedJobs()).map((payload) => payload.priority)).toEqual([-5, 10, -5]);
  });

  it("static priority = (job) => … is the twin; set({ priority }) wins without calling it", async () => {
    const seen: string[] = [];
    class Twin extends Report {
      static override priority = (job: Twin) => (seen.push(job.arguments[0]), byPlan(job));
    }
    expect((await Twin.performLater("pro")).priority).toBe(-5);
    expect((await Twin.set({ priority: 3 }).performLater("free")).priority).toBe(3);
    expect((await new Twin("free").set({ priority: 4 }).enqueue()).priority).toBe(4);
    expect(seen).toEqual(["pro"]);
  });

  it("a function returning a non-integer fails performLater naming the job class; nothing is enqueued", async () => {
    class Fractional extends Report {
      static override priority = () => 1.5;
    }
    class Wordy extends Report {
      static override priority = (() => "high") as never;
    }
    await expect(Fractional.performLater("pro")).rejects.toThrow(ConfigError);
    await expect(Fractional.performLater("pro")).rejects.toThrow("Fractional: its priority function must return an integer, got 1.5");
    await expect(Wordy.performLater("pro")).rejects.toThrow("Wordy: its priority function must return an integer, got high");
    expect(await enqueuedJobs()).toEqual([]);
  });
});
