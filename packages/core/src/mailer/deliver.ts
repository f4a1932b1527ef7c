/**
 * Delivery: builds a mail from its mailer method, applies the mailer's defaults, runs its
 * callbacks and hands the mail to the runtime's transport. `deliverNow` calls it in the
 * app's process, `MailDeliveryJob` in the worker's.
 *
 * @module
 */
import { ConfigError } from "../errors.js";
import { resolveInstance } from "../job/building.js";
import { currentRuntime } from "../runtime.js";
import type { AfterDeliver, BeforeDeliver, DeliveryContext, MailerConstructor, MailerDefaults, MailerSettings, MailMessage, SentMail } from "./message.js";
import { mailerAncestry, mailerName } from "./registry.js";
import { sendMail } from "./transport.js";

/** Builds a mail from its method, applies the mailer's defaults, runs callbacks and sends it. */
export async function deliver(mailer: MailerConstructor, method: string, args: readonly unknown[]): Promise<SentMail> {
  const resolve = currentRuntime().resolve;
  const resolved = resolve === undefined ? undefined : await resolveInstance<object>(resolve, mailer, "mailer");
  const instance = (resolved ?? buildMailer(mailer, resolve !== undefined)) as Record<string, (...a: unknown[]) => MailMessage | Promise<MailMessage>>;
  const built = await instance[method]!(...args);
  if (!built || typeof built !== "object" || !built.to || typeof built.subject !== "string") {
    throw new ConfigError(`${mailerName(mailer)}.${method} must return a mail with at least "to" and "subject"`);
  }
  const mail: MailMessage = { ...inheritedDefaults(mailer), ...built };
  const context: DeliveryContext = { mailer: mailerName(mailer), method, args };
  for (const callback of inherited(mailer, "beforeDeliver")) await (callback as BeforeDeliver)(mail, context);
  const sent = await sendMail(currentRuntime(), mail, context);
  for (const callback of inherited(mailer, "afterDeliver")) await (callback as AfterDeliver)(mail, sent, context);
  return sent;
}

/**
 * `new mailer()`, refusing a constructor that declares parameters (it takes services): built
 * without them, its services would be `undefined` and fail later, far from the cause, where
 * a job's constructor in the same case is refused (`constructJob`).
 */
function buildMailer(mailer: MailerConstructor, hooked: boolean): object {
  if (mailer.length > 0) {
    const why = hooked ? "the resolve hook in the Errand config answered undefined for it" : "the Errand config has no resolve hook";
    throw new ConfigError(
      `${mailerName(mailer)}'s constructor takes ${mailer.length} parameter(s), and ${why}: a mailer whose constructor takes services is built by the hook (docs/dependency-injection.md)`,
    );
  }
  return new mailer();
}

function asList<T>(value: T | readonly T[] | undefined): readonly T[] {
  return value === undefined ? [] : Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/** Defaults from the mailer and its ancestors, the nearest winning. */
function inheritedDefaults(mailer: Function): MailerDefaults {
  return Object.assign({}, ...mailerAncestry(mailer).map((c) => (Object.hasOwn(c, "defaults") ? (c as MailerSettings).defaults : undefined)));
}

/** Callbacks of a kind from the mailer's ancestors down to it. */
function inherited(mailer: Function, key: "beforeDeliver" | "afterDeliver"): unknown[] {
  return mailerAncestry(mailer).flatMap((c) => (Object.hasOwn(c, key) ? asList((c as MailerSettings)[key]) : []));
}
