// @errand/core/testing, as an app's test suite uses it.
import { AssertionError } from "node:assert";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { configure, Job, registerModel, type Runtime } from "@errand/core";
import {
  assertEnqueued,
  assertPerformed,
  clearJobs,
  enqueuedJobs,
  performedJobs,
  performEnqueuedJobs,
  performJob,
  waitFor,
} from "@errand/core/testing";

class Account {
  constructor(readonly id: number, readonly email: string) {}
}
const accounts = new Map([[1, new Account(1, "a@example.com")]]);
registerModel(Account, { find: (id) => accounts.get(id as number) });

const sent: string[] = [];
class WelcomeJob extends Job<[account: Account, note?: string]> {
  static override queue = "mailers";
  perform(account: Account, note?: string) {
    sent.push(`${account.email}${note ? ` ${note}` : ""}`);
    return { to: account.email };
  }
}
class ChainJob extends Job<[n: number]> {
  async perform(n: number) {
    if (n > 0) await ChainJob.performLater(n - 1);
    return n;
  }
}
class Unserializable extends Job<[]> {
  perform() {
    return () => 1;
  }
}
class Explodes extends Job<[]> {
  static override retry = [[Error, { attempts: 1 }]] as const;
  perform(): never {
    throw new SyntaxError("bad");
  }
}

let runtime: Runtime;
beforeEach(async () => {
  sent.length = 0;
  runtime = configure({ adapter: { test: "test", development: "async" }, queueNamePrefix: "app" });
  await clearJobs();
});
afterEach(() => runtime.close());

describe("assertEnqueued", () => {
  it("matches on class, args (models by reference), queue and time", async () => {
    await WelcomeJob.set({ wait: "1h" }).performLater(accounts.get(1)!, "hello");
    const [payload] = await assertEnqueued({ job: WelcomeJob, args: [accounts.get(1)!, "hello"], queue: "mailers", at: new Date(Date.now() + 3_600_000) });
    expect(payload!.queue).toBe("app_mailers");
    await assertEnqueued({ job: WelcomeJob, count: 1 });
    expect(sent).toEqual([]);
  });

  it("fails with a message listing what was enqueued", async () => {
    await WelcomeJob.performLater(accounts.get(1)!);
    const error = await assertEnqueued({ job: WelcomeJob, queue: "default" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AssertionError);
    expect((error as Error).message).toMatch(/expected at least one enqueued job\(s\) matching job WelcomeJob, queue default, found 0/);
    expect((error as Error).message).toContain('WelcomeJob(["gid://errand/Account/1"]) on app_mailers');
    await expect(assertEnqueued({ job: ChainJob, count: 0 })).resolves.toEqual([]);
    await expect(assertEnqueued({ job: WelcomeJob, count: 2 })).rejects.toThrow(AssertionError);
  });
});

describe("performEnqueuedJobs and assertPerformed", () => {
  it("perform stored jobs through the real path, including jobs they enqueue", async () => {
    await ChainJob.performLater(3);
    expect(await performEnqueuedJobs()).toBe(4);
    await assertPerformed({ job: ChainJob, count: 4 });
    expect((await performedJobs()).map((p) => p.args.json)).toEqual([[3], [2], [1], [0]]);
  });

  it("filter by class, queue and due time", async () => {
    await WelcomeJob.performLater(accounts.get(1)!, "now");
    await WelcomeJob.set({ wait: "1d" }).performLater(accounts.get(1)!, "tomorrow");
    await ChainJob.performLater(0);
    expect(await performEnqueuedJobs({ only: WelcomeJob, at: new Date() })).toBe(1);
    expect(sent).toEqual(["a@example.com now"]);
    expect(await performEnqueuedJobs({ queue: "mailers" })).toBe(1);
    expect(sent).toEqual(["a@example.com now", "a@example.com tomorrow"]);
    expect((await enqueuedJobs()).length).toBe(3);
    await assertPerformed({ job: ChainJob, count: 0 });
  });
});

describe("performJob", () => {
  it("runs a job through the wire format and resolves to its result", async () => {
    expect(await performJob(WelcomeJob, accounts.get(1)!)).toEqual({ to: "a@example.com" });
  });

  it("rejects with the job's own error", async () => {
    await expect(performJob(Explodes)).rejects.toThrow(SyntaxError);
  });

  it("a result that cannot be stored is reported, and the job still counts as done", async () => {
    const errors: unknown[] = [];
    runtime.events.on("worker:error", (event) => errors.push(event.error));
    expect(await performJob(Unserializable)).toBeUndefined();
    expect(String(errors[0])).toMatch(/result: function .* cannot be stored/);
  });
});

describe("waitFor", () => {
  it("resolves to the first truthy value and times out naming what it waited for", async () => {
    let n = 0;
    expect(await waitFor(() => ++n >= 3 && n)).toBe(3);
    await expect(waitFor(() => false, { timeoutMs: 30, message: "pigs to fly" })).rejects.toThrow(
      "waitFor: timed out after 30 ms waiting for pigs to fly",
    );
  });
});
