/**
 * Mailers: sending mail, the first slow job of every app, in one line.
 *
 * ```ts
 * export const UserMailer = defineMailer(class UserMailer extends Mailer {
 *   static defaults = { from: "hello@shop.test" };
 *   welcome(user: User) { return { to: user.email, subject: "Welcome", text: `Hi ${user.name}` }; }
 * });
 * await UserMailer.welcome(user).deliverLater();          // queue "mailers"
 * await UserMailer.mail("welcome", user).deliverNow();    // the same mail, named by a string
 * ```
 *
 * The enqueued job ({@link MailDeliveryJob}) carries the mailer's name, the method and its
 * arguments (models as references), never the rendered mail: the mail is built when the
 * job runs, from the records as they are then. `UserMailer.mail("welcome", user)` works on
 * any `Mailer` subclass; ActionMailer's `UserMailer.welcome(user)` needs the class passed
 * through `defineMailer` (`facade.ts` says why). Both check the method name and its
 * arguments at compile time.
 *
 * @module
 */
import type { Duration } from "../duration.js";
import { validateOptions, type OptionSchema } from "../config/validate.js";
import { SET_OPTIONS_SCHEMA, type EnqueuedJob } from "../job/enqueuing.js";
import { deliver } from "./deliver.js";
import { MailDeliveryJob } from "./delivery-job.js";
import type { AfterDeliver, BeforeDeliver, MailerDefaults, MailMessage, SentMail } from "./message.js";
import { findMailer, MAILER_MARK, mailerName, registerMailer } from "./registry.js";

/** Options of {@link MailDelivery.deliverLater}: those of `Job.set` a mail can use. */
export interface DeliverLaterOptions {
  /** Delay before the mail is built and sent: ms, `"10m"`, `{ minutes: 10 }`. */
  wait?: Duration;
  /** Earliest time it is sent. Exclusive with `wait`. */
  waitUntil?: Date;
  /** Default `"mailers"`. */
  queue?: string;
  /** Priority of the delivery job; lower runs first. */
  priority?: number;
}

const DELIVER_LATER_SCHEMA: OptionSchema<DeliverLaterOptions> = {
  wait: SET_OPTIONS_SCHEMA.wait,
  waitUntil: SET_OPTIONS_SCHEMA.waitUntil,
  queue: SET_OPTIONS_SCHEMA.queue,
  priority: SET_OPTIONS_SCHEMA.priority,
};

/** The mail methods of a mailer: those returning a {@link MailMessage}. */
export type MailMethod<M> = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [K in keyof M]: M[K] extends (...args: any[]) => MailMessage | Promise<MailMessage> ? K : never;
}[keyof M] &
  string;

/** Arguments of mail method `K` of mailer `M`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type MailArgs<M, K extends keyof M> = M[K] extends (...args: infer A) => any ? A : never;

/**
 * A mailer class whose instances are `M`, with `Mailer`'s statics (`mail`, `defaults`…):
 * what `defineMailer` takes and the typed API (`MailDelivery.mailer`) hands around. The
 * registry's `MailerConstructor` is the looser shape it needs (built without
 * arguments, with the static settings), declared apart so the registry imports nothing
 * of `Mailer`; every `MailerClass` is a `MailerConstructor`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type MailerClass<M extends Mailer = Mailer> = (new (...services: any[]) => M) & typeof Mailer;

/** Mail methods that build mails; subclass it and add methods returning a {@link MailMessage}. */
export abstract class Mailer {
  static {
    // The mark, not `instanceof`, is how the registry and the runtime recognise mailers.
    Object.defineProperty(this, MAILER_MARK, { value: true });
  }

  /** Fields every mail gets unless the method sets them (`from`, `replyTo`). */
  static defaults?: MailerDefaults;
  /** Name stored in jobs. Default: the class name; set it when code is minified. */
  static mailerName?: string;
  /** Callbacks run before each delivery, in order (inherited ones first). */
  static beforeDeliver?: BeforeDeliver | readonly BeforeDeliver[];
  /** Callbacks run after each delivery, in order. */
  static afterDeliver?: AfterDeliver | readonly AfterDeliver[];

  /** A mail of this mailer, to deliver now or later: `UserMailer.mail("welcome", user)`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  static mail<M extends Mailer, K extends MailMethod<M>>(this: new (...services: any[]) => M, method: K, ...args: MailArgs<M, K>): MailDelivery {
    const mailer = this as unknown as MailerClass<M>;
    registerMailer(mailer);
    findMailer(mailerName(mailer), method);
    return new MailDelivery(mailer, method, args);
  }
}

/** One mail (mailer, method, arguments), not yet built. */
export class MailDelivery {
  constructor(
    readonly mailer: MailerClass,
    readonly method: string,
    readonly args: readonly unknown[],
  ) {}

  /**
   * Enqueues a job that builds and sends the mail: queue `"mailers"` unless `queue` says otherwise.
   * Rejects with `ConfigError` for an unknown option (naming the nearest valid one) or a value of the wrong kind.
   */
  async deliverLater(options: DeliverLaterOptions = {}): Promise<EnqueuedJob> {
    validateOptions(options, DELIVER_LATER_SCHEMA, `the deliverLater options of ${mailerName(this.mailer)}.${this.method}`);
    const set: DeliverLaterOptions = { ...options, queue: options.queue ?? "mailers" };
    return MailDeliveryJob.set(set).performLater(mailerName(this.mailer), this.method, [...this.args]);
  }

  /** Builds the mail and sends it now, in this process, with the mailer's callbacks. */
  deliverNow(): Promise<SentMail> {
    return deliver(this.mailer, this.method, this.args);
  }
}
