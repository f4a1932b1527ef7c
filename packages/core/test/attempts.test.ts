// A retried payload keeps its earlier runs (`attempts`, issue 15: the dashboard's timeline):
// each run's start, end and error, the oldest dropped past MAX_ATTEMPTS_KEPT, all of them
// dropped when a dead job is retried. Run through the test adapter and performEnqueuedJobs,
// which use the real execution path.
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { MAX_ATTEMPTS_KEPT, type JobPayload } from "../src/adapter/contract.js";
import { revive } from "../src/backends/client.js";
import "../src/index.js";
import { Job } from "../src/job/job.js";
import { configure, type Runtime } from "../src/runtime.js";
import { clearJobs, performEnqueuedJobs } from "../src/testing/index.js";
import { decodePayload, encodePayload } from "../src/wire-format.js";

class CodedError extends Error {
  code = "E_CODED";
}

/** Fails its first `failures` runs. */
class Stubborn extends Job<[failures: number]> {
  perform(failures: number) {
    if (this.executions <= failures) throw new CodedError(`run ${this.executions}`);
    return this.executions;
  }
}

let retried: JobPayload[] = [];
let dead: JobPayload[] = [];
let runtime: Runtime;

/** A fresh test-adapter runtime whose retries (default policy) stop after `attempts` runs. */
async function start(attempts: number): Promise<void> {
  await runtime?.close();
  retried = [];
  dead = [];
  runtime = configure({ adapter: "test", retry: { attempts, wait: 1, jitter: 0 } });
  runtime.events.on("job:retry", (event) => retried.push(event.payload));
  runtime.events.on("job:dead", (event) => event.payload && dead.push(event.payload));
  await clearJobs();
}

beforeEach(() => start(40));
afterEach(() => runtime.close());

describe("attempts: a payload's earlier runs", () => {
  it("each retry appends its run: start, end, and the error's name, message and code", async () => {
    const before = Date.now();
    await Stubborn.performLater(2);
    await performEnqueuedJobs();
    expect(retried.map((payload) => payload.attempts?.map((attempt) => attempt.error))).toEqual([
      [{ name: "CodedError", message: "run 1", code: "E_CODED" }],
      [
        { name: "CodedError", message: "run 1", code: "E_CODED" },
        { name: "CodedError", message: "run 2", code: "E_CODED" },
      ],
    ]);
    for (const attempt of retried[1]!.attempts!) {
      expect(Date.parse(attempt.startedAt)).toBeGreaterThanOrEqual(before - 5);
      expect(Date.parse(attempt.finishedAt)).toBeGreaterThanOrEqual(Date.parse(attempt.startedAt));
      expect(Date.parse(attempt.finishedAt)).toBeLessThanOrEqual(Date.now());
    }
    // What is stored reads back as valid wire format.
    expect(decodePayload(encodePayload(retried[1]!)).attempts).toEqual(retried[1]!.attempts);
  });

  it(`keeps the last ${MAX_ATTEMPTS_KEPT} runs, and the dead payload holds the run that killed it`, async () => {
    await start(MAX_ATTEMPTS_KEPT + 5);
    await Stubborn.performLater(100);
    await performEnqueuedJobs();
    const attempts = dead[0]!.attempts!;
    expect(attempts).toHaveLength(MAX_ATTEMPTS_KEPT);
    expect(attempts.at(-1)!.error.message).toBe(`run ${MAX_ATTEMPTS_KEPT + 5}`);
    expect(attempts[0]!.error.message).toBe("run 6");
  });

  it("a dead job retried starts with no attempts", async () => {
    await start(2);
    await Stubborn.performLater(5);
    await performEnqueuedJobs();
    expect(dead[0]!.attempts).toHaveLength(2);
    expect(revive(encodePayload(dead[0]!))!.payload.attempts).toBeUndefined();
  });
});
