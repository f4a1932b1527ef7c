// How the executor rebuilds a job from its payload, on the paths a job without callbacks or
// timeout takes (the worker calls perform directly, arguments read without a promise, the
// stored id handed to the constructor): what perform sees, and that nothing it does reaches
// the stored payload.
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import "../src/index.js";
import { Job } from "../src/job/job.js";
import { configure, type Runtime } from "../src/runtime.js";
import { clearJobs, performEnqueuedJobs } from "../src/testing/index.js";

let runtime: Runtime;
const seen: unknown[] = [];

beforeEach(async () => {
  seen.length = 0;
  runtime = configure({ adapter: "test", retry: { attempts: 2, wait: 1, jitter: 0 } });
  await clearJobs();
});
afterEach(() => runtime.close());

class Inner extends Job<[]> {
  perform(): void {}
}

describe("a job restored from its payload", () => {
  it("has its stored id from its constructor on; a job its constructor makes draws a new one", async () => {
    class Outer extends Job<[n: number]> {
      readonly idInConstructor: string;
      readonly inner: Inner;
      constructor(n: number) {
        super(n);
        this.idInConstructor = this.jobId;
        this.inner = new Inner();
      }
      perform(_n: number): void {
        seen.push(this.idInConstructor, this.jobId, this.inner.jobId);
      }
    }
    const { jobId } = await Outer.performLater(1);
    expect(await performEnqueuedJobs()).toBe(1);
    expect(seen[0]).toBe(jobId);
    expect(seen[1]).toBe(jobId);
    expect(seen[2]).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[2]).not.toBe(jobId);
    // The next job built outside the executor draws its own id again.
    expect(new Inner().jobId).not.toBe(jobId);
  });

  it.each([
    ["primitives", [1, "a", true, null]],
    ["an object and a date", [{ list: [1, 2] }, new Date("2026-12-03T00:00:00.000Z")]],
  ] as const)("gets arguments (%s) that perform may change without changing what is stored", async (_, args) => {
    class Mutating extends Job<unknown[]> {
      perform(...received: unknown[]): never {
        seen.push(structuredClone(received));
        received.push("added");
        received[0] = "changed";
        const first = this.arguments[0];
        if (first && typeof first === "object") (first as { list?: number[] }).list?.push(3);
        throw new Error("again");
      }
    }
    const { jobId } = await Mutating.performLater(...args);
    expect(await performEnqueuedJobs()).toBe(2);
    expect(seen).toEqual([args, args]);
    expect((await Mutating.status(jobId))?.state).toBe("dead");
  });

  it("a perform that throws before returning a promise follows the error rules", async () => {
    class Throws extends Job<[]> {
      perform(): void {
        seen.push("ran");
        throw new Error("at once");
      }
    }
    const { jobId } = await Throws.performLater();
    expect(await performEnqueuedJobs()).toBe(2);
    expect(seen).toEqual(["ran", "ran"]);
    expect(await Throws.status(jobId)).toMatchObject({ state: "dead", executions: 2, error: { message: "at once" } });
  });
});
