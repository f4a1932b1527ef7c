// @errand/core/testing edges (issue 11 review): performJob resolves queue and priority as
// performLater does, performEnqueuedJobs stops at its limit without stranding a job, a job
// class is judged alike bare or in a matcher, and assertMailEnqueued checks its matcher.
import { AssertionError } from "node:assert";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import "../src/index.js";
import { ConfigError } from "../src/errors.js";
import { jobs, queues } from "../src/admin-control.js";
import { Job } from "../src/job/job.js";
import { Mailer } from "../src/mailer/mailer.js";
import { configure, type Runtime } from "../src/runtime.js";
import { assertEnqueued, assertMailEnqueued, clearJobs, performEnqueuedJobs, performJob, type JobMatcher } from "../src/testing/index.js";

let runtime: Runtime;
beforeEach(async () => {
  runtime = configure({ adapter: "test", queueNamePrefix: "app" });
  await clearJobs();
});
afterEach(() => runtime.close());

class PlanJob extends Job<[plan: "pro" | "free"], { queue: string; priority: number }> {
  static override queue = (job: PlanJob) => (job.arguments[0] === "pro" ? "fast" : "slow");
  static override priority = (job: PlanJob) => (job.arguments[0] === "pro" ? -5 : 10);
  perform(_plan: "pro" | "free") {
    return { queue: this.queueName, priority: this.priority };
  }
}

describe("performJob", () => {
  it("resolves a class's queue and priority functions for the job, as performLater does", async () => {
    expect(await performJob(PlanJob, "pro")).toEqual({ queue: "app_fast", priority: -5 });
    expect(await performJob(PlanJob, "free")).toEqual({ queue: "app_slow", priority: 10 });
  });
});

let forever = true;
const runs: number[] = [];
class LoopJob extends Job<[n: number]> {
  async perform(n: number) {
    runs.push(n);
    if (forever) await LoopJob.performLater(n + 1);
  }
}

describe("performEnqueuedJobs' limit", () => {
  beforeEach(() => {
    forever = true;
    runs.length = 0;
  });

  it("is checked before a job is taken: the job left over stays pending, not leased", async () => {
    await LoopJob.performLater(0);
    await expect(performEnqueuedJobs({ limit: 3 })).rejects.toThrow("performEnqueuedJobs: more than 3 runs; does a job enqueue itself forever?");
    expect(runs).toEqual([0, 1, 2]);
    forever = false;
    expect(await performEnqueuedJobs()).toBe(1);
    expect(runs).toEqual([0, 1, 2, 3]);
  });

  it("exactly the limit of runs is no error", async () => {
    forever = false;
    await LoopJob.performLater(0);
    await LoopJob.performLater(1);
    expect(await performEnqueuedJobs({ limit: 2 })).toBe(2);
  });
});

abstract class TenantJob extends Job<[]> {}
class InvoiceJob extends TenantJob {
  perform() {}
}

describe("a job class given to a matcher", () => {
  it("an abstract base class is a job class, bare or as { job }", async () => {
    await InvoiceJob.performLater();
    await expect(assertEnqueued(TenantJob)).rejects.toThrow(AssertionError);
    await expect(assertEnqueued({ job: TenantJob })).rejects.toThrow(AssertionError);
    await expect(assertEnqueued({ job: TenantJob, count: 0 })).resolves.toEqual([]);
    await assertEnqueued(InvoiceJob);
  });

  it("a function that is not a job class is refused, bare or as { job }", async () => {
    const notAJob = (() => undefined) as unknown as typeof InvoiceJob;
    await expect(assertEnqueued(notAJob)).rejects.toThrow("assertEnqueued: expected a matcher such as { job: WelcomeJob } or a job class");
    await expect(assertEnqueued({ job: notAJob })).rejects.toThrow('option "job" in the assertEnqueued matcher must be a job class (a subclass of Job), got function');
    await expect(performEnqueuedJobs({ only: class Plain {} as never })).rejects.toThrow(ConfigError);
    await expect(assertEnqueued({ job: Job as never } satisfies JobMatcher)).rejects.toThrow(ConfigError);
  });
});

class ShopMailer extends Mailer {
  welcome() {
    return { to: "a@example.com", subject: "Hi" };
  }
}

describe("assertMailEnqueued", () => {
  it("requires mailer and method", async () => {
    await expect(assertMailEnqueued({ method: "welcome" } as never)).rejects.toThrow(
      'option "mailer" in the assertMailEnqueued matcher is required: { mailer: UserMailer, method: "welcome" }',
    );
    await expect(assertMailEnqueued({ mailer: ShopMailer } as never)).rejects.toThrow('option "method" in the assertMailEnqueued matcher is required');
    await expect(assertMailEnqueued(undefined as never)).rejects.toThrow("assertMailEnqueued: expected a matcher such as { mailer: UserMailer, method: \"welcome\" }, got undefined");
  });

  it("refuses a mailer that is not a mailer class", async () => {
    const expected = 'option "mailer" in the assertMailEnqueued matcher must be a mailer class (a subclass of Mailer), got';
    await expect(assertMailEnqueued({ mailer: {} as never, method: "welcome" })).rejects.toThrow(`${expected} {}`);
    await expect(assertMailEnqueued({ mailer: InvoiceJob, method: "welcome" })).rejects.toThrow(`${expected} function InvoiceJob`);
    await expect(assertMailEnqueued({ mailer: Mailer, method: "welcome" })).rejects.toThrow(ConfigError);
  });

  it("matches a mail enqueued with deliverLater", async () => {
    await ShopMailer.mail("welcome").deliverLater();
    await assertMailEnqueued({ mailer: ShopMailer, method: "welcome", count: 1 });
  });
});

describe("clearJobs", () => {
  it("forgets the operator's state too: a queue paused in one test is open in the next", async () => {
    await queues().pause("app_fast"); // operators name queues as stored, prefix included
    await PlanJob.performLater("pro");
    expect((await queues().list()).find((queue) => queue.name === "app_fast")?.paused).toBe(true);
    await clearJobs();
    expect((await queues().list()).filter((queue) => queue.paused)).toEqual([]);
    expect(await jobs().list({ state: "queued" })).toMatchObject({ jobs: [] });
  });
});
