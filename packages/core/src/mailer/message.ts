/**
 * What a mailer deals in: the mail a method returns, the defaults and callbacks a mailer
 * class declares, and what a callback is told. Types only, so every mailer module can
 * use them without importing another's code.
 *
 * @module
 */
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

/** A mail the transport took. */
export interface SentMail {
  messageId: string | undefined;
  /** The mail as sent (defaults applied). */
  mail: MailMessage;
  mailer: string;
  method: string;
  /** The transport's own answer (for the test delivery, nothing). */
  info?: unknown;
}

/** Runs before a mail is handed to the transport; may change it. */
export type BeforeDeliver = (mail: MailMessage, context: DeliveryContext) => void | Promise<void>;
/** Runs after the transport took a mail. */
export type AfterDeliver = (mail: MailMessage, sent: SentMail, context: DeliveryContext) => void | Promise<void>;

/** The static settings of a mailer class, as the registry and the delivery read them. */
export interface MailerSettings {
  /** Fields every mail gets unless the method sets them (`from`, `replyTo`). */
  defaults?: MailerDefaults;
  /** Name stored in jobs. Default: the class name; set it when code is minified. */
  mailerName?: string;
  /** Callbacks run before each delivery, in order (inherited ones first). */
  beforeDeliver?: BeforeDeliver | readonly BeforeDeliver[];
  /** Callbacks run after each delivery, in order. */
  afterDeliver?: AfterDeliver | readonly AfterDeliver[];
}

/**
 * A mailer class as the registry and the delivery see it: built without arguments, with
 * its settings (`registerMailer`, `mailers` in config). Looser than `MailerClass` (which
 * `defineMailer` takes: a `Mailer` subclass with its statics, typed by its instances) so
 * that this module and the registry need no import of `Mailer`; at run time both are
 * checked to be `Mailer` subclasses (`isMailerClass`).
 */
export type MailerConstructor = (new () => object) & MailerSettings;
