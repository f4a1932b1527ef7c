import { afterEach, describe, expect, it } from "vitest";

import "../src/index.js";
import { ConfigError } from "../src/errors.js";
import { Mailer } from "../src/mailer/mailer.js";
import type { BeforeDeliver, MailerDefaults, MailMessage } from "../src/mailer/message.js";
import { UnknownMailerError } from "../src/mailer/registry.js";
import { MailDeliveryJob } from "../src/mailer/delivery-job.js";
import { configure, type Runtime } from "../src/runtime.js";
import { assertMailEnqueued, clearDeliveries, deliveries, enqueuedJobs, performEnqueuedJobs } from "../src/testing/index.js";

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

const order: string[] = [];

class BaseMailer extends Mailer {
  static override defaults: MailerDefaults = { from: "base@shop.test", replyTo: "help@shop.test" };
  static override beforeDeliver: BeforeDeliver | BeforeDeliver[] = [(mail) => void order.push(`base before ${mail.subject}`)];
}

// Named for this file alone: the unit files share worker processes (isolate: false in
// vitest.config.ts) and mailers are registered by name process-wide, as in an app, where
// two mailers called UserMailer (mailer-facade.test.ts has one) are an error.
class AccountMailer extends BaseMailer {
  static override defaults: MailerDefaults = { from: "users@shop.test" };
  static override beforeDeliver: BeforeDeliver = (mail) => {
    order.push("user before");
    (mail as { headers?: Record<string, string> }).headers = { "X-Mailer-Test": "1" };
  };
  static override afterDeliver = [(_mail: MailMessage, sent: { messageId?: string }) => void order.push(`user after ${sent.messageId}`)];

  welcome(name: string, visits: number) {
    return { to: `${name}@example.com`, subject: `Welcome ${name}`, text: `visit ${visits}` };
  }

  async digest(names: string[]) {
    return { to: names.map((name) => `${name}@example.com`), subject: "Digest", from: "digest@shop.test" };
  }

  helper() {
    return 42;
  }

  broken() {
    return { subject: "no recipient" } as unknown as MailMessage;
  }
}

describe("mailers", () => {
  it("types the method name and its arguments", async () => {
    runtime = configure({ adapter: "test" });
    AccountMailer.mail("welcome", "ada", 1);
    AccountMailer.mail("digest", ["ada"]);
    // @ts-expect-error: not a mail method (it returns a number); at run time the mail it builds is refused
    await expect(AccountMailer.mail("helper").deliverNow()).rejects.toThrow(/AccountMailer\.helper must return a mail/);
    // @ts-expect-error: wrong argument types
    AccountMailer.mail("welcome", 1, "ada");
    // @ts-expect-error: no such method
    expect(() => AccountMailer.mail("nope")).toThrow(UnknownMailerError);
  });

  it("deliverLater enqueues the mailer, method and arguments on queue mailers, not the mail", async () => {
    runtime = configure({ adapter: "test" });
    const job = await AccountMailer.mail("welcome", "ada", 3).deliverLater({ priority: 2 });
    expect(job).toMatchObject({ job: MailDeliveryJob.jobName, queue: "mailers", priority: 2 });
    const [payload] = await enqueuedJobs();
    expect(payload!.args.json).toEqual(["AccountMailer", "welcome", ["ada", 3]]);
    await assertMailEnqueued({ mailer: AccountMailer, method: "welcome", args: ["ada", 3], queue: "mailers" });
    await AccountMailer.mail("welcome", "bob", 1).deliverLater({ queue: "urgent" });
    await assertMailEnqueued({ mailer: AccountMailer, method: "welcome", queue: "urgent", count: 1 });
    await expect(assertMailEnqueued({ mailer: AccountMailer, method: "digest" })).rejects.toThrow(/expected at least one enqueued job/);
    expect(deliveries()).toEqual([]);
  });

  it("builds the mail when the job runs: nearest defaults win, the method's own fields over them, callbacks ancestors first", async () => {
    runtime = configure({ adapter: "test", mailers: [AccountMailer] });
    order.length = 0;
    clearDeliveries();
    await AccountMailer.mail("welcome", "ada", 3).deliverLater();
    await AccountMailer.mail("digest", ["ada", "bob"]).deliverLater();
    expect(await performEnqueuedJobs()).toBe(2);
    expect(deliveries().map((sent) => sent.mail)).toEqual([
      { from: "users@shop.test", replyTo: "help@shop.test", to: "ada@example.com", subject: "Welcome ada", text: "visit 3", headers: { "X-Mailer-Test": "1" } },
      { from: "digest@shop.test", replyTo: "help@shop.test", to: ["ada@example.com", "bob@example.com"], subject: "Digest", headers: { "X-Mailer-Test": "1" } },
    ]);
    expect(order).toEqual(["base before Welcome ada", "user before", "user after <test-1@errand>", "base before Digest", "user before", "user after <test-2@errand>"]);
  });

  it("a mail without to or subject is an error naming the method", async () => {
    runtime = configure({ adapter: "test" });
    await expect(AccountMailer.mail("broken").deliverNow()).rejects.toThrow(/AccountMailer\.broken must return a mail with at least "to" and "subject"/);
  });

  it("outside the test environment, a mail without a configured transport is an error naming the setting", async () => {
    runtime = configure({ adapter: "test", environment: "production" });
    await expect(AccountMailer.mail("welcome", "ada", 1).deliverNow()).rejects.toThrow(ConfigError);
    await expect(AccountMailer.mail("welcome", "ada", 1).deliverNow()).rejects.toThrow(/no mail transport configured for environment "production": set mail.transport/);
  });
});
