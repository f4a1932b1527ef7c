/**
 * The job behind `deliverLater`: its arguments are the mailer's name, the method and the
 * method's arguments (models as references), so the mail is built when the job runs.
 *
 * Rules: an unknown mailer or method dies at once (there is nothing to retry); a permanent
 * transport failure (bad address, 5xx) is discarded; anything else — a refused connection,
 * a timeout, a 4xx — follows the configured default retry policy.
 *
 * @module
 */
import { Job } from "../job/job.js";
import { addBuiltinJob } from "../registry.js";
import { deliver } from "./deliver.js";
import { findMailer, UnknownMailerError } from "./registry.js";
import type { SentMail } from "./message.js";
import { UndeliverableMailError } from "./transport.js";

/** Builds and sends one mail. Registered by core; apps never enqueue it directly. */
export class MailDeliveryJob extends Job<[mailer: string, method: string, args: unknown[]], string | undefined> {
  static override jobName = "Errand.MailDelivery";
  static override queue = "mailers";
  static override retry = [[UnknownMailerError, { attempts: 1 }]] as const;
  static override discard = [UndeliverableMailError];

  async perform(mailer: string, method: string, args: unknown[]): Promise<string | undefined> {
    const sent: SentMail = await deliver(findMailer(mailer, method), method, args);
    return sent.messageId;
  }
}

addBuiltinJob(MailDeliveryJob);
