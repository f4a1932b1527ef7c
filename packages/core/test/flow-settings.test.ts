// Flow-control settings: what @unique, @limitConcurrency and @rateLimit (and their static
// twins) accept, the errors for what they do not, and the payload `flow` they produce.
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { ConfigError } from "../src/errors.js";
import { limitConcurrency, rateLimit, unique } from "../src/job/decorators.js";
import { flowFor, MAX_KEY_LENGTH } from "../src/job/flow.js";
import { Job } from "../src/job/job.js";
import { definitionOf } from "../src/job/settings.js";
import { configure, type Runtime } from "../src/runtime.js";
import { enqueuedJobs } from "../src/testing/index.js";
import { decodePayload, validatePayload } from "../src/wire-format.js";

describe("flow options are checked where they are written", () => {
  it.each([
    [() => unique({ while: "soon" as never }), /"while".*one of "queued", "active", "done"/],
    [() => unique({} as never), /"while" is required/],
    [() => unique({ while: "done" }), /while "done" needs "for"/],
    [() => unique({ while: "queued", fo: "1h" } as never), /unknown option "fo".*"for"/],
    [() => unique({ while: "queued", for: "soon" }), /"soon"/],
    [() => limitConcurrency({ key: "k", limit: 0 }), /"limit".*positive integer/],
    [() => limitConcurrency({ limit: 2 } as never), /"key" is required/],
    [() => limitConcurrency({ key: 7 as never, limit: 2 }), /"key".*a string or a function/],
    [() => rateLimit({ limit: 10 } as never), /"per" is required/],
    [() => rateLimit({ limit: 1.5, per: "1s" }), /"limit".*positive integer/],
    [() => rateLimit({ limit: 1, per: "1s", burst: 3 } as never), /unknown option "burst"/],
  ])("%#: a bad option is a ConfigError naming it", (make, message) => {
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(message);
  });

  it("a static twin is checked when the class is first used, naming class and field", () => {
    class BadTwinJob extends Job<[]> {
      static override unique = { while: "forever" };
      perform() {}
    }
    expect(() => definitionOf(BadTwinJob)).toThrow(/"while" in BadTwinJob\.unique/);
  });
});

describe("the payload's flow", () => {
  let runtime: Runtime;
  beforeEach(() => {
    runtime = configure({ adapter: "test" });
  });
  afterEach(() => runtime.close());

  it("evaluates key functions with the job's arguments at enqueue, scoping the unique key by class", async () => {
    class SyncJob extends Job<[account: { id: number }, full: boolean]> {
      static override unique = { key: (account: { id: number }) => String(account.id), while: "queued" };
      static override concurrencyLimit = { key: (account: { id: number }) => `account:${account.id}`, limit: 1 };
      static override rateLimit = { limit: 5, per: "1m" };
      perform(_account: { id: number }, _full: boolean) {}
    }
    await SyncJob.performLater({ id: 7 }, true);
    const [payload] = await enqueuedJobs();
    expect(payload!.flow).toEqual({
      unique: { key: "SyncJob:7", while: "queued" },
      concurrency: { key: "account:7", limit: 1 },
      rateLimit: { key: "SyncJob", limit: 5, perMs: 60_000 },
    });
    expect(validatePayload(JSON.parse(JSON.stringify(payload)))).toEqual(payload);
  });

  it("a key function returning something else than a non-empty string fails the enqueue, naming the job", async () => {
    class EmptyKeyJob extends Job<[]> {
      static override concurrencyLimit = { key: () => "", limit: 1 };
      perform() {}
    }
    await expect(EmptyKeyJob.performLater()).rejects.toThrow(/EmptyKeyJob limitConcurrency: the key function must return a non-empty string/);
    expect(await enqueuedJobs()).toEqual([]);
  });

  it("the default unique key is the serialized arguments, digested when long; long keys are digested too", () => {
    const settings = { unique: { key: undefined, while: "queued" as const, forMs: undefined } };
    const a = flowFor(settings, "J", [], { json: ["a", 1] })!.unique!.key;
    expect(a).toBe('J:args:["a",1]');
    expect(a).toBe(flowFor(settings, "J", [], { json: ["a", 1] })!.unique!.key);
    expect(a).not.toBe(flowFor(settings, "J", [], { json: ["a", 2] })!.unique!.key);
    // With superjson's meta the whole value is the key: never equal to a json-only one.
    const withMeta = flowFor(settings, "J", [], { json: ["a", 1], meta: { values: { "0": ["undefined"] } } })!.unique!.key;
    expect(withMeta).toBe('J:args:{"json":["a",1],"meta":{"values":{"0":["undefined"]}}}');
    const longArgs = flowFor(settings, "J", [], { json: ["y".repeat(MAX_KEY_LENGTH)] })!.unique!.key;
    expect(longArgs).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(longArgs).not.toBe(flowFor(settings, "J", [], { json: ["y".repeat(MAX_KEY_LENGTH - 1) + "z"] })!.unique!.key);
    const long = flowFor({ concurrency: { key: "x".repeat(MAX_KEY_LENGTH + 1), limit: 1 } }, "J", [], { json: [] })!.concurrency!.key;
    expect(long).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe("wire format: flow", () => {
  const base = { v: 1, job: "J", id: "i", queue: "q", priority: 0, args: { json: [] }, executions: 0, enqueuedAt: "2026-12-03T10:00:00.000Z", runAt: "2026-12-03T10:00:00.000Z" };
  it.each([
    [{ throttle: {} }, /"flow.throttle" is not a flow-control setting/],
    [{ unique: { key: "k", while: "later" } }, /"flow.unique.while"/],
    [{ concurrency: { key: "k", limit: 0 } }, /"flow.concurrency.limit" must be an integer >= 1/],
    [{ rateLimit: { key: "", limit: 1, perMs: 1 } }, /"flow.rateLimit.key" must be a non-empty string/],
    [{ recurring: { task: "t", tick: "yesterday" } }, /"flow.recurring.tick" must be an ISO-8601 date/],
  ])("%#: a malformed flow is refused naming the field", (flow, message) => {
    expect(() => decodePayload(JSON.stringify({ ...base, flow }))).toThrow(message);
  });
});
