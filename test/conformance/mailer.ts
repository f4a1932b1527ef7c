/**
 * Conformance: mail — `deliverLater` is an ordinary job (core's `MailDeliveryJob`) on
 * queue "mailers", so every adapter must store it, hand it to a worker on that queue, and
 * honour a queue given per mail. The mail goes to the test delivery, kept per runtime.
 */
import { describe, expect, it } from "vitest";

import { defineMailer, MailDeliveryJob, Mailer, type ErrandConfig, type MailerDefaults } from "@errand/core";
import { deliveries, waitFor } from "@errand/core/testing";

import { bodies, reserve, withFixture, type AdapterWiring } from "./harness.js";

/**
 * A mailer with defaults, so a case can tell the mail was built by the worker's delivery;
 * through `defineMailer`, so cases can send in both forms.
 */
export const ConformanceMailer = defineMailer(
  class ConformanceMailer extends Mailer {
    static override defaults: MailerDefaults = { from: "hello@shop.test" };

    welcome(email: string, name: string) {
      return { to: email, subject: "Welcome", text: `Hi ${name}` };
    }
  },
);

/** The fixture's config plus mail: the test delivery, and the mailer registered as workers need it. */
const MAIL_CONFIG: ErrandConfig = { mailers: [ConformanceMailer], mail: { transport: "test" } };

export function mailerSuite(wiring: AdapterWiring): void {
  describe(`${wiring.name}: mailer`, () => {
    it("deliverLater stores a MailDeliveryJob on queue mailers carrying the mailer, method and arguments, not the mail", async () => {
      await withFixture(wiring, MAIL_CONFIG, async (fixture) => {
        const enqueued = await ConformanceMailer.mail("welcome", "ada@example.com", "Ada").deliverLater();
        expect(enqueued).toMatchObject({ enqueued: true, job: MailDeliveryJob.jobName, queue: "mailers" });
        const [stored, ...rest] = bodies(await reserve(fixture.adapter, { queues: ["mailers"] }));
        expect(rest).toEqual([]);
        expect(stored).toMatchObject({ id: enqueued.jobId, job: MailDeliveryJob.jobName, queue: "mailers" });
        expect(stored!.args.json).toEqual(["ConformanceMailer", "welcome", ["ada@example.com", "Ada"]]);
        // The mail is built when the job runs: neither its subject nor its text is stored.
        expect(JSON.stringify(stored)).not.toContain('"Welcome"');
        expect(JSON.stringify(stored)).not.toContain("Hi Ada");
        expect(deliveries(fixture.runtime)).toEqual([]);
      });
    });

    it("a worker on queue mailers builds the mail with the mailer's defaults and delivers it", async () => {
      await withFixture(wiring, MAIL_CONFIG, async (fixture) => {
        // Named, not "*": adapters without wildcardQueues (SQS) cannot work every queue.
        await fixture.startWorker({ queues: ["mailers"] });
        const { jobId } = await ConformanceMailer.mail("welcome", "ada@example.com", "Ada").deliverLater();
        const [sent] = await waitFor(() => deliveries(fixture.runtime).length > 0 && deliveries(fixture.runtime), {
          timeoutMs: 10_000,
          message: "the welcome mail to be delivered",
        });
        expect(deliveries(fixture.runtime)).toHaveLength(1);
        expect(sent).toMatchObject({
          mailer: "ConformanceMailer",
          method: "welcome",
          mail: { from: "hello@shop.test", to: "ada@example.com", subject: "Welcome", text: "Hi Ada" },
        });
        const status = await waitFor(async () => {
          const [record] = await fixture.client.getStatus([jobId]);
          return record && ["succeeded", "failed", "dead"].includes(record.state) && record;
        }, { timeoutMs: 10_000, message: `mail job ${jobId} to finish` });
        expect(status.state).toBe("succeeded");
        // The job's result is the transport's message id.
        expect(status.result).toBe(JSON.stringify({ json: sent!.messageId }));
      });
    });

    it("ActionMailer's form, ConformanceMailer.welcome(…).deliverLater(), stores the same job as the mail() form", async () => {
      await withFixture(wiring, MAIL_CONFIG, async (fixture) => {
        const enqueued = await ConformanceMailer.welcome("alan@example.com", "Alan").deliverLater();
        expect(enqueued).toMatchObject({ enqueued: true, job: MailDeliveryJob.jobName, queue: "mailers" });
        const [stored] = bodies(await reserve(fixture.adapter, { queues: ["mailers"] }));
        expect(stored).toMatchObject({ id: enqueued.jobId, job: MailDeliveryJob.jobName, queue: "mailers" });
        expect(stored!.args.json).toEqual(["ConformanceMailer", "welcome", ["alan@example.com", "Alan"]]);
      });
    });

    it("deliverLater({ queue }) stores the job on that queue instead", async () => {
      await withFixture(wiring, MAIL_CONFIG, async (fixture) => {
        const enqueued = await ConformanceMailer.mail("welcome", "grace@example.com", "Grace").deliverLater({ queue: "urgent" });
        expect(enqueued.queue).toBe("urgent");
        expect(await reserve(fixture.adapter, { queues: ["mailers"] })).toEqual([]);
        const [stored] = bodies(await reserve(fixture.adapter, { queues: ["urgent"] }));
        expect(stored).toMatchObject({ id: enqueued.jobId, job: MailDeliveryJob.jobName, queue: "urgent" });
        expect(stored!.args.json).toEqual(["ConformanceMailer", "welcome", ["grace@example.com", "Grace"]]);
      });
    });
  });
}
