// The inline adapter runs each job at enqueue, in the caller.
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { configure, Job, performAllLater, type Runtime } from "@errand/core";

const ran: string[] = [];
class Greet extends Job<[name: string], string> {
  perform(name: string) {
    ran.push(name);
    return `hi ${name}`;
  }
}
class GoneError extends Error {}
class Fails extends Job<[kind: string]> {
  static override discard = [GoneError];
  perform(kind: string): never {
    throw kind === "gone" ? new GoneError("gone") : new RangeError("out of range");
  }
}

let runtime: Runtime;
beforeEach(() => {
  ran.length = 0;
  runtime = configure({ adapter: "inline" });
});
afterEach(() => runtime.close());

describe("inline adapter", () => {
  it("runs the job before performLater resolves and records its status", async () => {
    const { jobId, adapter } = await Greet.performLater("ann");
    expect(adapter).toBe("inline");
    expect(ran).toEqual(["ann"]);
    expect(await Greet.status(jobId)).toMatchObject({ state: "succeeded", result: "hi ann", executions: 1 });
  });

  it("runs bulk enqueues too", async () => {
    await performAllLater([new Greet("a"), new Greet("b")]);
    expect(ran).toEqual(["a", "b"]);
  });

  it("a failing job rejects performLater with its own error and is dead; a discarded one does not reject", async () => {
    const error = await Fails.performLater("boom").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    await expect(Fails.performLater("gone")).resolves.toMatchObject({ enqueued: true });
  });

  it("[no capability: delays] a wait is refused, since there is no later", async () => {
    await expect(Greet.set({ wait: "5m" }).performLater("later")).rejects.toThrow(/longer than the inline adapter allows \(maxDelayMs 0\)/);
    expect(ran).toEqual([]);
  });
});
