/**
 * The slow work: a monthly report built from a third-party billing API that pages its
 * results slowly. A web request must not wait for it, so it runs as a job. The welcome
 * mail a user gets with their first report is background work too: `WelcomeMailer`.
 */
import { setTimeout as delay } from "node:timers/promises";

import { defineMailer, Job, Mailer, queueAs, retryOn, type AfterDeliver, type MailerDefaults, type MailMessage } from "@errand/core";

import type { User } from "./models.js";

/** What the billing API throws when it is too slow; worth retrying. */
export class BillingApiTimeoutError extends Error {
  override name = "BillingApiTimeoutError";
}

/** The simulated API: 10 pages, 80 ms each. */
export const PAGES = 10;
const PAGE_MS = 80;

async function fetchInvoicePage(user: User, month: Date, page: number, signal: AbortSignal) {
  await delay(PAGE_MS, undefined, { signal });
  // Deterministic "invoices" so the report is the same every run.
  const count = 3 + ((user.id + page + month.getUTCMonth()) % 4);
  return { count, cents: count * (1250 + page * 10) };
}

export interface Report {
  user: string;
  month: string;
  pages: number;
  invoices: number;
  totalCents: number;
}

@queueAs("reports")
@retryOn(BillingApiTimeoutError, { attempts: 5, wait: "polynomial" })
export class ReportJob extends Job<[user: User, month: Date], Report> {
  async perform(user: User, month: Date): Promise<Report> {
    let invoices = 0;
    let totalCents = 0;
    for (let page = 1; page <= PAGES; page++) {
      const { count, cents } = await fetchInvoicePage(user, month, page, this.signal);
      invoices += count;
      totalCents += cents;
      this.progress(page / PAGES, `fetched ${page}/${PAGES} pages`);
    }
    return { user: user.name, month: month.toISOString().slice(0, 7), pages: PAGES, invoices, totalCents };
  }
}

/**
 * The mail a user gets with their first report. `deliverLater` stores only the method's
 * name and the user (as a model reference); the mail is built when its job runs.
 */
export const WelcomeMailer = defineMailer(
  class WelcomeMailer extends Mailer {
    static override defaults: MailerDefaults = { from: "reports@example.com" };
    // One line per mail, so the demo shows the delivery happened in the background.
    static override afterDeliver: AfterDeliver = (mail) => console.log(`mail sent to ${String(mail.to)}: ${JSON.stringify(mail.subject)}`);

    welcome(user: User): MailMessage {
      return { to: user.email, subject: "Welcome to Reports", text: `Hi ${user.name}, your first report is on its way.` };
    }
  },
);
