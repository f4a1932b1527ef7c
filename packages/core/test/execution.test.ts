// Error rules, callbacks and timeouts as the executor applies them, through the test
// adapter and the testing helpers (no worker needed: performEnqueuedJobs runs the real path).
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { aroundEnqueue, aroundPerform, afterPerform, beforeEnqueue, beforePerform, afterEnqueue, rescueFrom } from "../src/job/decorators.js";
import { backoffMs } from "../src/job/exceptions.js";
import "../src/index.js";
import { Job } from "../src/job/job.js";
import { configure, type Runtime } from "../src/runtime.js";
import { clearJobs, enqueuedJobs, performEnqueuedJobs, performJob } from "../src/testing/index.js";

class ApiError extends Error {}
class GoneError extends Error {}
const log: string[] = [];
let runtime: Runtime;

beforeEach(async () => {
  log.length = 0;
  runtime = configure({ adapter: "test", retry: { attempts: 3, wait: 1, jitter: 0 } });
  await clearJobs();
});
afterEach(() => runtime.close());

describe("error rules", () => {
  it("rescueFrom handles the error: the job succeeds and the handler sees job and error", async () => {
    class Rescued extends Job<[]> {
      static override rescue = [[ApiError, (error: ApiError, job: Rescued) => log.push(`rescued ${error.message} in ${job.executions}`)]] as const;
      perform(): never {
        throw new ApiError("nope");
      }
    }
    const { jobId } = await Rescued.performLater();
    expect(await performEnqueuedJobs()).toBe(1);
    expect(log).toEqual(["rescued nope in 1"]);
    expect((await Rescued.status(jobId))?.state).toBe("succeeded");
  });

  it("an error thrown by a rescue handler follows the default policy", async () => {
    class Rethrow extends Job<[]> {
      static override rescue = [[ApiError, () => {
        throw new GoneError("handler failed");
      }]] as const;
      perform(): never {
        throw new ApiError("first");
      }
    }
    const { jobId } = await Rethrow.performLater();
    expect(await performEnqueuedJobs()).toBe(3);
    const status = await Rethrow.status(jobId);
    expect(status).toMatchObject({ state: "dead", executions: 3, error: { name: "GoneError", message: "handler failed" } });
  });

  it("afterDiscard runs when a job is discarded and when it dies", async () => {
    class Doomed extends Job<[mode: string]> {
      static override discard = [GoneError];
      static override retry = [[ApiError, { attempts: 2, wait: 1 }]] as const;
      static override afterDiscard = [(job: Doomed, error: Error) => log.push(`${job.arguments[0]}: ${error.message}`)];
      perform(mode: string): never {
        throw mode === "gone" ? new GoneError("gone") : new ApiError("api");
      }
    }
    await Doomed.performLater("gone");
    await Doomed.performLater("api");
    expect(await performEnqueuedJobs()).toBe(3);
    expect(log).toEqual(["gone: gone", "api: api"]);
  });

  it("the first matching rule in the order written wins", async () => {
    class Ordered extends Job<[]> {
      static override retry = [[ApiError, { attempts: 5, wait: 1 }], [Error, { attempts: 2, wait: 1 }]] as const;
      perform(): never {
        throw new ApiError("api");
      }
    }
    const { jobId } = await Ordered.performLater();
    await performEnqueuedJobs();
    expect((await Ordered.status(jobId))?.executions).toBe(5);
  });

  it("retry rules may send retries to another queue and priority", async () => {
    class Rerouted extends Job<[]> {
      static override retry = [[ApiError, { attempts: 2, wait: "1h", queue: "slow", priority: 9 }]] as const;
      perform(): never {
        throw new ApiError("x");
      }
    }
    const { jobId } = await Rerouted.performLater();
    await performEnqueuedJobs({ at: new Date() });
    const status = await Rerouted.status(jobId);
    expect(status).toMatchObject({ state: "retrying", queue: "slow", priority: 9 });
    expect(status!.scheduledAt.getTime() - Date.now()).toBeGreaterThan(3_500_000);
  });

  it("backoff: polynomial and exponential grow, a function decides itself, jitter adds up to its fraction", () => {
    expect([1, 2, 3].map((n) => backoffMs("polynomial", 0, n))).toEqual([3000, 18_000, 83_000]);
    expect([1, 2, 3].map((n) => backoffMs("exponential", 0, n))).toEqual([2000, 4000, 8000]);
    expect(backoffMs((n) => `${n}m`, 0, 2)).toBe(120_000);
    expect(backoffMs(1000, 0.5, 1, () => 1)).toBe(1500);
    expect(backoffMs(1000, 0.5, 1, () => 0)).toBe(1000);
  });
});

describe("callbacks", () => {
  it("run around enqueue and perform in order, parents first", async () => {
    class Base extends Job<[n: number]> {
      perform(n: number) {
        log.push(`perform ${n}`);
        return n * 2;
      }
    }
    for (const [decorator, name] of [
      [beforeEnqueue, "before enqueue"],
      [afterEnqueue, "after enqueue"],
      [beforePerform, "before perform"],
      [afterPerform, "after perform"],
    ] as const) {
      decorator((job: Base) => log.push(`${name} base ${job.arguments[0]}`))(Base);
    }
    aroundPerform(async (_job, next) => {
      log.push("around perform in");
      await next();
      log.push("around perform out");
    })(Base);
    class Child extends Base {
      static override beforePerform = () => log.push("before perform child");
    }
    aroundEnqueue(async (_job, next) => {
      log.push("around enqueue in");
      await next();
      log.push("around enqueue out");
    })(Child);
    const enqueued = await Child.performLater(21);
    expect(enqueued.enqueued).toBe(true);
    await performEnqueuedJobs();
    expect(log).toEqual([
      "before enqueue base 21",
      "around enqueue in",
      "around enqueue out",
      "after enqueue base 21",
      "before perform base 21",
      "before perform child",
      "around perform in",
      "perform 21",
      "around perform out",
      "after perform base 21",
    ]);
  });

  it("an around-enqueue callback that does not call next() enqueues nothing", async () => {
    class Skipped extends Job<[]> {
      static override aroundEnqueue = () => log.push("skipped");
      perform() {}
    }
    const result = await Skipped.performLater();
    expect(result.enqueued).toBe(false);
    expect(await enqueuedJobs()).toEqual([]);
  });

  it("a throwing before-enqueue callback rejects performLater and stores nothing", async () => {
    class Guarded extends Job<[]> {
      static override beforeEnqueue = () => {
        throw new Error("not allowed");
      };
      perform() {}
    }
    await expect(Guarded.performLater()).rejects.toThrow("not allowed");
    expect(await enqueuedJobs()).toEqual([]);
  });
});

describe("performNow", () => {
  it("runs inline with callbacks and returns the result", async () => {
    class Adder extends Job<[a: number, b: number], number> {
      static override afterPerform = (job: Adder) => log.push(`after ${job.executions}`);
      perform(a: number, b: number) {
        return a + b;
      }
    }
    expect(await Adder.performNow(2, 3)).toBe(5);
    expect(await Adder.set({ queue: "x" }).performNow(1, 1)).toBe(2);
    expect(log).toEqual(["after 1", "after 1"]);
  });

  it("applies rescue and discard rules and rethrows anything else", async () => {
    class Mixed extends Job<[kind: string]> {
      static override discard = [GoneError];
      perform(kind: string) {
        if (kind === "gone") throw new GoneError("g");
        if (kind === "api") throw new ApiError("a");
        return kind;
      }
    }
    rescueFrom(ApiError, () => log.push("rescued"))(Mixed);
    expect(await Mixed.performNow("gone")).toBeUndefined();
    expect(await Mixed.performNow("api")).toBeUndefined();
    expect(log).toEqual(["rescued"]);
    class Plain extends Job<[]> {
      perform(): never {
        throw new TypeError("plain");
      }
    }
    await expect(Plain.performNow()).rejects.toThrow(TypeError);
  });
});

describe("timeouts", () => {
  it("abort this.signal and fail the attempt with JobTimeoutError", async () => {
    let aborted = false;
    class Slow extends Job<[]> {
      static override timeout = 20;
      perform() {
        return new Promise((_, reject) =>
          this.signal.addEventListener("abort", () => {
            aborted = true;
            reject(this.signal.reason);
          }),
        );
      }
    }
    await expect(performJob(Slow)).rejects.toThrow("Slow timed out after 20 ms");
    expect(aborted).toBe(true);
  });
});
