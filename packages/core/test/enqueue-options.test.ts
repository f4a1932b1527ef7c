// Enqueue options are checked like configuration (issue 11 review): `set()`, `enqueue()`
// and `deliverLater()` refuse an unknown option, naming the nearest valid one, and a value
// of the wrong kind, before anything is stored.
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import "../src/index.js";
import { ConfigError } from "../src/errors.js";
import { Job, performAllLater } from "../src/job/job.js";
import { Mailer } from "../src/mailer/mailer.js";
import { configure, type Runtime } from "../src/runtime.js";
import { clearJobs, enqueuedJobs } from "../src/testing/index.js";

class ReportJob extends Job<[id: number]> {
  perform(_id: number) {}
}

class ReceiptMailer extends Mailer {
  receipt(order: number) {
    return { to: "buyer@example.com", subject: `Order ${order}` };
  }
}

let runtime: Runtime;
beforeEach(async () => {
  runtime = configure({ adapter: "test" });
  await clearJobs();
});
afterEach(() => runtime.close());

// Written as JavaScript would: no type checking on the way in.
const untyped = <T>(options: Record<string, unknown>) => options as T;

describe("Job.set and job.enqueue", () => {
  it("an unknown option rejects, naming the nearest valid one, and nothing is enqueued", async () => {
    await expect(ReportJob.set(untyped({ priorty: 1 })).performLater(1)).rejects.toThrow(
      'unknown option "priorty" in the set() options of ReportJob; did you mean "priority"?',
    );
    await expect(ReportJob.set(untyped({ delay: "1h" })).performLater(1)).rejects.toThrow(
      'unknown option "delay" in the set() options of ReportJob; valid options: wait, waitUntil, queue, priority, transaction, group',
    );
    await expect(new ReportJob(1).enqueue(untyped({ waitUtil: new Date() }))).rejects.toThrow('did you mean "waitUntil"?');
    await expect(ReportJob.set(untyped({ que: "low" })).performNow(1)).rejects.toThrow(ConfigError);
    expect(await enqueuedJobs()).toEqual([]);
  });

  it("the instance's set() throws at once; options assigned by hand are checked at enqueue", async () => {
    expect(() => new ReportJob(1).set(untyped({ priorty: 1 }))).toThrow('unknown option "priorty" in the set() options of ReportJob');
    const job = new ReportJob(2);
    job.enqueueOptions = untyped({ wat: 5 });
    await expect(performAllLater([new ReportJob(1), job])).rejects.toThrow('did you mean "wait"?');
    expect(await enqueuedJobs()).toEqual([]);
  });

  it.each([
    [{ wait: true }, /option "wait" in the set\(\) options of ReportJob must be a duration .*, got true/],
    [{ wait: "an hour" }, /set\(\{ wait \}\): "an hour" is not a duration/],
    [{ waitUntil: "2030-01-01" }, 'option "waitUntil" in the set() options of ReportJob must be a valid Date, got "2030-01-01"'],
    [{ waitUntil: new Date(Number.NaN) }, /option "waitUntil" .* must be a valid Date/],
    [{ queue: "" }, 'option "queue" in the set() options of ReportJob must be a non-empty string, got ""'],
    [{ priority: "1" }, 'option "priority" in the set() options of ReportJob must be an integer, got "1"'],
    [{ group: 7 }, 'option "group" in the set() options of ReportJob must be a string, got 7'],
    [{ transaction: "BEGIN" }, /option "transaction" in the set\(\) options of ReportJob must be your open transaction/],
  ])("a value of the wrong kind rejects: %o", async (options, message) => {
    await expect(ReportJob.set(untyped(options)).performLater(1)).rejects.toThrow(message);
  });

  it("valid options are applied", async () => {
    const at = new Date(Date.now() + 60_000);
    await ReportJob.set({ priority: 3, queue: "low", waitUntil: at }).performLater(1);
    expect(await enqueuedJobs()).toMatchObject([{ priority: 3, queue: "low", runAt: at.toISOString() }]);
  });
});

describe("deliverLater", () => {
  it("refuses an unknown option or one a mail cannot take, naming the nearest valid one", async () => {
    const mail = ReceiptMailer.mail("receipt", 1);
    await expect(mail.deliverLater(untyped({ priorty: 1 }))).rejects.toThrow(
      'unknown option "priorty" in the deliverLater options of ReceiptMailer.receipt; did you mean "priority"?',
    );
    await expect(mail.deliverLater(untyped({ group: "g" }))).rejects.toThrow('unknown option "group" in the deliverLater options');
    await expect(mail.deliverLater(untyped({ wait: ["5m"] }))).rejects.toThrow(/option "wait" in the deliverLater options of ReceiptMailer.receipt must be a duration/);
    expect(await enqueuedJobs()).toEqual([]);
    await mail.deliverLater({ wait: "5m", priority: 1 });
    expect(await enqueuedJobs()).toMatchObject([{ queue: "mailers", priority: 1 }]);
  });
});
