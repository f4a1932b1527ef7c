/**
 * Mailers: sending mail, the first slow job of every app, in one line.
 *
 * ```ts
 * class UserMailer extends Mailer {
 *   static defaults = { from: "hello@shop.test" };
 *   welcome(user: User) { return { to: user.email, subject: "Welcome", text: `Hi ${user.name}` }; }
 * }
 * await UserMailer.mail("welcome", user).deliverLater();   // queue "mailers"
 * await UserMailer.mail("welcome", user).deliverNow();
 * ```
 *
 * The enqueued job ({@link MailDeliveryJob}) carries the mailer's name, the method and its
 * arguments (models as references), never the rendered mail: the mail is built when the
 * job runs, from the records as they are then. Why `UserMailer.mail("welcome", user)` and not
 * `UserMailer.welcome(user)` as in ActionMailer: TypeScript cannot give a class static
 * methods derived from its instance methods, so the latter could not be typed; this form
 * checks the method name and its arguments.
 *
 * @module
 */
import { ConfigError, ErrandError } from "../errors.js";
import type { Duration } from "../duration.js";
import type { EnqueuedJob } from "../job/enqueuing.js";
import { currentRuntime } from "../runtime.js";
import { sendMail, type SentMail } from "./transport.js";

/** One mail, as a mailer method returns it (nodemailer's message fields). */
export interface MailMessage {
  to: string | readonly string[];
  subject: string;
  text?: string;
  html?: string;
  from?: string;
  replyTo?: string;
  cc?: string | readonly string[];
  bcc?: string | readonly string[];
  attachments?: readonly MailAttachment[];
  headers?: Readonly<Record<string, string>>;
}

/** A file attached to a mail. */
export interface MailAttachment {
  filename: string;
  content: string | Buffer;
  contentType?: string;
}

/** Fields every mail of a mailer gets unless the method sets them. */
export interface MailerDefaults {
  from?: string;
  replyTo?: string;
}

/** What a delivery callback is told. */
export interface DeliveryContext {
  mailer: string;
  method: string;
  args: readonly unknown[];
}

/** Runs before a mail is handed to the transport; may change it. */
export type BeforeDeliver = (mail: MailMessage, context: DeliveryContext) => void | Promise<void>;
/** Runs after the transport took a mail. */
export type AfterDeliver = (mail: MailMessage, sent: SentMail, context: DeliveryContext) => void | Promise<void>;

/** Options of {@link MailDelivery.deliverLater}. */
export interface DeliverLaterOptions {
  wait?: Duration;
  waitUntil?: Date;
  /** Default `"mailers"`. */
  queue?: string;
  priority?: number;
}

/** The mail methods of a mailer: those returning a {@link MailMessage}. */
export type MailMethod<M> = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [K in keyof M]: M[K] extends (...args: any[]) => MailMessage | Promise<MailMessage> ? K : never;
}[keyof M] &
  string;

/** Arguments of mail method `K` of mailer `M`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type MailArgs<M, K extends keyof M> = M[K] extends (...args: infer A) => any ? A : never;

/** A mailer class whose instances are `M`. */
export type MailerClass<M extends Mailer = Mailer> = (new () => M) & typeof Mailer;

/** A mailer method or class that cannot run: the job goes to the dead set. */
export class UnknownMailerError extends ErrandError {
  constructor(message: string) {
    super("ERR_UNKNOWN_MAILER", message);
  }
}

const mailers = new Map<string, MailerClass>();

/** The name a mailer is stored under in jobs: `static mailerName`, else the class name. */
export function mailerName(mailer: Function): string {
  const own = (mailer as { mailerName?: unknown }).mailerName;
  const name = typeof own === "string" && own ? own : mailer.name;
  if (!name) throw new ConfigError("a mailer class has no name; set static mailerName");
  return name;
}

/** True for a `Mailer` subclass. */
export function isMailerClass(value: unknown): value is MailerClass {
  return typeof value === "function" && value.prototype instanceof Mailer;
}

/** Registers mailers so workers can run their mails (`mailers` in config does this too). */
export function registerMailer(...classes: MailerClass[]): void {
  for (const mailer of classes) {
    if (!isMailerClass(mailer)) throw new ConfigError(`${(mailer as Function).name || String(mailer)} is not a Mailer subclass`);
    const name = mailerName(mailer);
    const existing = mailers.get(name);
    if (existing && existing !== mailer) throw new ConfigError(`two different mailers are named "${name}"; give one a distinct static mailerName`);
    mailers.set(name, mailer);
  }
}

/** The mailer registered under `name`, with the reason when there is none. */
export function findMailer(name: string, method: string): MailerClass {
  const mailer = mailers.get(name);
  if (!mailer) {
    throw new UnknownMailerError(`unknown mailer "${name}" (registered: ${[...mailers.keys()].sort().join(", ") || "none"})`);
  }
  if (method === "constructor" || typeof (mailer.prototype as unknown as Record<string, unknown>)[method] !== "function") {
    throw new UnknownMailerError(`mailer "${name}" has no mail method "${method}"`);
  }
  return mailer;
}

function asList<T>(value: T | readonly T[] | undefined): readonly T[] {
  return value === undefined ? [] : Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/** Mail methods that build mails; subclass it and add methods returning a {@link MailMessage}. */
export abstract class Mailer {
  /** Fields every mail gets unless the method sets them (`from`, `replyTo`). */
  static defaults?: MailerDefaults;
  /** Name stored in jobs. Default: the class name; set it when code is minified. */
  static mailerName?: string;
  /** Callbacks run before each delivery, in order (inherited ones first). */
  static beforeDeliver?: BeforeDeliver | readonly BeforeDeliver[];
  /** Callbacks run after each delivery, in order. */
  static afterDeliver?: AfterDeliver | readonly AfterDeliver[];

  /** A mail of this mailer, to deliver now or later: `UserMailer.mail("welcome", user)`. */
  static mail<M extends Mailer, K extends MailMethod<M>>(this: new () => M, method: K, ...args: MailArgs<M, K>): MailDelivery {
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

  /** Enqueues a job that builds and sends the mail: queue `"mailers"` unless `queue` says otherwise. */
  async deliverLater(options: DeliverLaterOptions = {}): Promise<EnqueuedJob> {
    const { MailDeliveryJob } = await import("./delivery-job.js");
    const set: DeliverLaterOptions = { ...options, queue: options.queue ?? "mailers" };
    return MailDeliveryJob.set(set).performLater(mailerName(this.mailer), this.method, [...this.args]);
  }

  /** Builds the mail and sends it now, in this process, with the mailer's callbacks. */
  deliverNow(): Promise<SentMail> {
    return deliver(this.mailer, this.method, this.args);
  }
}

/** Builds a mail from its method, applies the mailer's defaults, runs callbacks and sends it. */
export async function deliver(mailer: MailerClass, method: string, args: readonly unknown[]): Promise<SentMail> {
  const instance = new mailer() as unknown as Record<string, (...a: unknown[]) => MailMessage | Promise<MailMessage>>;
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

/** The mailer and its ancestors below `Mailer`, farthest first. */
function ancestry(mailer: Function): Function[] {
  const chain: Function[] = [];
  for (let c: Function | null = mailer; c && c !== Mailer; c = Object.getPrototypeOf(c) as Function | null) chain.unshift(c);
  return chain;
}

/** Defaults from the mailer and its ancestors, the nearest winning. */
function inheritedDefaults(mailer: Function): MailerDefaults {
  return Object.assign({}, ...ancestry(mailer).map((c) => (Object.hasOwn(c, "defaults") ? (c as typeof Mailer).defaults : undefined)));
}

/** Callbacks of a kind from the mailer's ancestors down to it. */
function inherited(mailer: Function, key: "beforeDeliver" | "afterDeliver"): unknown[] {
  return ancestry(mailer).flatMap((c) => (Object.hasOwn(c, key) ? asList((c as unknown as Record<string, unknown>)[key]) : []));
}
