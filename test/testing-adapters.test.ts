// @errand/core/testing follows the jobs: a class pinned to a test adapter of its own
// (`static adapter = "mail"`) is found without an `adapter` option, and matchers and options
// are checked, so a class or a misspelt key cannot become a matcher that matches any job.
import { AssertionError } from "node:assert";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { ConfigError, configure, Job, type Runtime } from "@errand/core";
import {
  assertEnqueued,
  assertPerformed,
  clearJobs,
  enqueuedJobs,
  performedJobs,
  performEnqueuedJobs,
  testAdapter,
  type JobMatcher,
} from "@errand/core/testing";

const ran: string[] = [];
class NewsletterJob extends Job<[to: string]> {
  static override adapter = "mail";
  perform(to: string) {
    ran.push(`newsletter ${to}`);
  }
}
class SignupJob extends Job<[to: string]> {
  async perform(to: string) {
    ran.push(`signup ${to}`);
    await NewsletterJob.performLater(to);
  }
}
class IdleJob extends Job<[]> {
  perform() {}
}

let runtime: Runtime;
beforeEach(async () => {
  ran.length = 0;
  runtime = configure({ adapter: "test", adapters: { mail: "test" } });
  await clearJobs();
});
afterEach(() => runtime.close());

describe("a job class pinned to a test adapter of its own", () => {
  it("is found by assertEnqueued and enqueuedJobs without an adapter option", async () => {
    await NewsletterJob.performLater("a@example.com");
    expect((await testAdapter()).enqueued).toEqual([]);
    const [payload] = await assertEnqueued({ job: NewsletterJob, args: ["a@example.com"], count: 1 });
    expect(payload!.job).toBe("NewsletterJob");
    expect((await enqueuedJobs()).map((p) => p.job)).toEqual(["NewsletterJob"]);
    expect((await enqueuedJobs({ job: NewsletterJob })).length).toBe(1);
    await assertEnqueued({ count: 1 });
  });

  it("is performed by performEnqueuedJobs, also when another job enqueues it, and seen by assertPerformed", async () => {
    await SignupJob.performLater("b@example.com");
    expect(await performEnqueuedJobs()).toBe(2);
    expect(ran).toEqual(["signup b@example.com", "newsletter b@example.com"]);
    await assertPerformed({ job: NewsletterJob, count: 1 });
    await assertPerformed({ job: SignupJob, count: 1 });
    expect((await performedJobs()).map((p) => p.job)).toEqual(["SignupJob", "NewsletterJob"]);
  });

  it("performEnqueuedJobs({ only }) looks in the class's own adapter", async () => {
    await NewsletterJob.performLater("c@example.com");
    await IdleJob.performLater();
    expect(await performEnqueuedJobs({ only: NewsletterJob })).toBe(1);
    expect(ran).toEqual(["newsletter c@example.com"]);
    await assertEnqueued({ job: IdleJob, count: 1 });
    await assertPerformed({ job: IdleJob, count: 0 });
  });

  it("clearJobs forgets the jobs of every test adapter in play", async () => {
    await NewsletterJob.performLater("d@example.com");
    await IdleJob.performLater();
    await clearJobs();
    expect(await enqueuedJobs({ adapter: "mail" })).toEqual([]);
    expect(await enqueuedJobs({ adapter: "test" })).toEqual([]);
    expect(await performEnqueuedJobs()).toBe(0);
  });

  it("an explicit adapter option still narrows to that adapter", async () => {
    await NewsletterJob.performLater("e@example.com");
    await assertEnqueued({ adapter: "mail", count: 1 });
    await expect(assertEnqueued({ job: NewsletterJob, adapter: "test" })).rejects.toThrow(AssertionError);
  });

  it("a job whose adapter is not a test adapter is a clear error naming it", async () => {
    const other = configure({ adapter: "test", adapters: { mail: "inline", reports: "async" }, worker: { embedded: false } });
    class ReportJob extends Job<[]> {
      static override adapter = "reports";
      perform() {}
    }
    try {
      await expect(assertEnqueued({ job: ReportJob })).rejects.toThrow(
        "the adapter of ReportJob (adapters.reports) is the async adapter; testing helpers need the test adapter",
      );
    } finally {
      await other.close();
    }
  });
});

describe("matchers and options are checked", () => {
  it("a job class given as the matcher means { job: Class }", async () => {
    await SignupJob.performLater("f@example.com");
    await expect(assertEnqueued(IdleJob)).rejects.toThrow(AssertionError);
    await IdleJob.performLater();
    expect((await assertEnqueued(IdleJob)).map((p) => p.job)).toEqual(["IdleJob"]);
    await performEnqueuedJobs({ only: IdleJob });
    expect((await assertPerformed(IdleJob)).map((p) => p.job)).toEqual(["IdleJob"]);
  });

  it("another function given as the matcher is refused", async () => {
    const notAJob = (() => undefined) as unknown as JobMatcher;
    await expect(assertEnqueued(notAJob)).rejects.toThrow(ConfigError);
    await expect(assertEnqueued(notAJob)).rejects.toThrow("assertEnqueued: expected a matcher such as { job: WelcomeJob } or a job class");
  });

  it("an unknown key is an error naming the nearest valid one, not a matcher that matches anything", async () => {
    await IdleJob.performLater();
    const typo = { jobs: NewsletterJob } as unknown as JobMatcher;
    await expect(assertEnqueued(typo)).rejects.toThrow('unknown option "jobs" in the assertEnqueued matcher; did you mean "job"?');
    await expect(assertPerformed({ queue: 5 } as unknown as JobMatcher)).rejects.toThrow(
      'option "queue" in the assertPerformed matcher must be a string, got 5',
    );
    await expect(performEnqueuedJobs({ onlyJobs: IdleJob } as never)).rejects.toThrow('unknown option "onlyJobs" in the performEnqueuedJobs options');
    await expect(enqueuedJobs({ adaptr: "mail" } as never)).rejects.toThrow('did you mean "adapter"?');
    await expect(clearJobs({ job: IdleJob } as never)).rejects.toThrow('unknown option "job" in the clearJobs options');
  });
});
