/**
 * Where mails go: a nodemailer transport from config, or the test delivery.
 *
 * `mail.transport` in config is an SMTP URL (`smtp://user:pass@host:587`), nodemailer
 * transport options (`{ jsonTransport: true }`, `{ streamTransport: true }`, SMTP options),
 * your own transporter (anything with `sendMail`), or `"test"`, which keeps mails in
 * memory for assertions (`deliveries()` in `@errand/core/testing`). Default: `"test"` in
 * the `test` environment; elsewhere a mail without a configured transport is an error
 * naming the setting. nodemailer is an optional peer dependency, loaded on first send.
 *
 * Transport errors are sorted for the retry rules: a refused or dropped connection, a
 * timeout or a 4xx reply is temporary (`MailDeliveryError`, retried by the default policy);
 * a 5xx reply or a refused address is permanent (`UndeliverableMailError`, discarded).
 *
 * @module
 */
import { ConfigError, ErrandError } from "../errors.js";
import type { Runtime } from "../runtime.js";
import type { DeliveryContext, MailMessage, SentMail } from "./message.js";

/** How mail leaves: see the module comment. */
export type MailTransportSetting = string | Readonly<Record<string, unknown>> | MailTransporter;

/** Anything that sends a message as nodemailer's transporters do. */
export interface MailTransporter {
  sendMail(message: Record<string, unknown>): Promise<{ messageId?: string; envelope?: unknown; message?: unknown; accepted?: unknown[]; rejected?: unknown[] }>;
}

/** Mail settings (`mail` in config). */
export interface MailSettings {
  transport?: MailTransportSetting;
}

/** A temporary failure: the delivery is retried. */
export class MailDeliveryError extends ErrandError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_MAIL_DELIVERY", message, options);
  }
}

/** A permanent failure (bad address, 5xx): the delivery is not retried. */
export class UndeliverableMailError extends ErrandError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_MAIL_UNDELIVERABLE", message, options);
  }
}

/** Mails kept by the test delivery, per runtime. */
const testDeliveries = new WeakMap<Runtime, SentMail[]>();
const transporters = new WeakMap<Runtime, Promise<MailTransporter | "test">>();

/** Mails the test delivery has kept for this runtime, oldest first. */
export function testDeliveriesOf(runtime: Runtime): SentMail[] {
  let list = testDeliveries.get(runtime);
  if (!list) testDeliveries.set(runtime, (list = []));
  return list;
}

async function transporterFor(runtime: Runtime): Promise<MailTransporter | "test"> {
  let found = transporters.get(runtime);
  if (!found) {
    found = makeTransporter(runtime);
    transporters.set(runtime, found);
    found.catch(() => transporters.delete(runtime));
  }
  return found;
}

async function makeTransporter(runtime: Runtime): Promise<MailTransporter | "test"> {
  const setting = (runtime.config as { mail?: MailSettings }).mail?.transport ?? (runtime.environment === "test" ? "test" : undefined);
  if (setting === undefined) {
    throw new ConfigError(`no mail transport configured for environment "${runtime.environment}": set mail.transport (an SMTP URL, nodemailer transport options, or "test")`);
  }
  if (setting === "test") return "test";
  if (typeof setting === "object" && typeof (setting as MailTransporter).sendMail === "function") return setting as MailTransporter;
  let nodemailer: { createTransport(options: unknown): MailTransporter };
  try {
    // By name through a variable: nodemailer is an optional peer, and core has no types of it.
    const specifier = "nodemailer";
    nodemailer = ((await import(specifier)) as { default: typeof nodemailer }).default;
  } catch (error) {
    throw new ConfigError("mail.transport needs nodemailer: npm install nodemailer", { cause: error });
  }
  return nodemailer.createTransport(setting);
}

/** Sorts a transport error into temporary and permanent (see the module comment). */
function classify(error: unknown, context: DeliveryContext): Error {
  const { code, responseCode } = error as { code?: string; responseCode?: number };
  const what = `${context.mailer}.${context.method}: ${(error as Error)?.message ?? String(error)}`;
  // The server's reply code decides when there is one: nodemailer codes every refused
  // RCPT TO or DATA command EENVELOPE, a 450 (greylisting, mailbox busy) included.
  if (typeof responseCode === "number" ? responseCode >= 500 : code === "EENVELOPE") {
    return new UndeliverableMailError(what, { cause: error });
  }
  return new MailDeliveryError(what, { cause: error });
}

/** Sends a built mail through the runtime's transport. */
export async function sendMail(runtime: Runtime, mail: MailMessage, context: DeliveryContext): Promise<SentMail> {
  const transporter = await transporterFor(runtime);
  if (transporter === "test") {
    const sent: SentMail = { messageId: `<test-${testDeliveriesOf(runtime).length + 1}@errand>`, mail, mailer: context.mailer, method: context.method };
    testDeliveriesOf(runtime).push(sent);
    return sent;
  }
  try {
    const info = await transporter.sendMail({ ...mail } as Record<string, unknown>);
    return { messageId: info.messageId, mail, mailer: context.mailer, method: context.method, info };
  } catch (error) {
    throw classify(error, context);
  }
}
