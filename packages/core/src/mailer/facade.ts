/**
 * ActionMailer's form, typed: `UserMailer.welcome(user).deliverLater()`.
 *
 * ```ts
 * export const UserMailer = defineMailer(class UserMailer extends Mailer {
 *   welcome(user: User) { return { to: user.email, subject: "Welcome", text: `Hi ${user.name}` }; }
 * });
 * await UserMailer.welcome(user).deliverLater({ wait: "1h" });
 * ```
 *
 * `welcome` is an instance method, and TypeScript gives a class no statics derived from
 * its instance methods: nothing `Mailer` declares can name a subclass's methods (statics
 * cannot use the class's type parameters, and a base computed from the subclass is a
 * circular base expression). So the statics are added by a function, whose return type
 * maps every mail method to a static with the same parameters. `defineMailer` returns the
 * class itself — same identity, still a class to extend, to name in `mailers`, to pass to
 * `assertMailEnqueued` — with one non-enumerable static per method. Each static calls
 * `mail` on the class it is called on, so a subclass (wrapped or not) delivers as itself.
 *
 * A mail method whose name a static already has (`mail`, `defaults`, `name`, `call`, …)
 * would shadow it: that is a type error at the call, and a `ConfigError` at run time.
 *
 * @module
 */
import { ConfigError } from "../errors.js";
import type { MailArgs, MailDelivery, MailerClass, MailMethod } from "./mailer.js";
import { isMailerClass, mailerAncestry, mailerName } from "./registry.js";

/** A mail method as a static of its mailer: `UserMailer.welcome(user)` → a {@link MailDelivery}. */
export type MailBuilder<A extends unknown[]> = ((...args: A) => MailDelivery) & {
  /** The instance method it builds the mail with. */
  readonly mailMethod: string;
};

/** Any mailer class, whatever its instances. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyMailerClass = MailerClass<any>;

/** The class `C` with a {@link MailBuilder} static per mail method: what `defineMailer` returns. */
export type MailerFacade<C extends AnyMailerClass> = C & {
  readonly [K in MailMethod<InstanceType<C>>]: MailBuilder<MailArgs<InstanceType<C>, K>>;
};

/** Mail methods of `C` named like a static of the class that is not a builder inherited from a parent's facade. */
export type StaticCollision<C extends AnyMailerClass> = {
  [K in MailMethod<InstanceType<C>>]: K extends keyof C
    ? C[K] extends { readonly mailMethod: string }
      ? never
      : K
    : K extends keyof Function
      ? K
      : never;
}[MailMethod<InstanceType<C>>];

/** Where the call fails to compile when a mail method collides (see {@link StaticCollision}). */
export type NoStaticCollision<C extends AnyMailerClass> = {
  [K in StaticCollision<C>]: `mail method "${K}" has the name of a static of the mailer; rename the method`;
};

/**
 * Gives a mailer class ActionMailer's statics: `UserMailer.welcome(user)` is
 * `UserMailer.mail("welcome", user)`, typed by `welcome`'s parameters. Returns the class
 * itself; export the result under the class's name.
 *
 * @throws ConfigError when `mailer` is not a named `Mailer` subclass, or when one of its
 *   methods has the name of a static (`mail`, `defaults`, `name`, `call`, …).
 */
export function defineMailer<C extends AnyMailerClass>(mailer: C & NoStaticCollision<C>): MailerFacade<C> {
  if (!isMailerClass(mailer)) throw new ConfigError(`defineMailer takes a Mailer subclass, got ${describe(mailer)}`);
  const name = mailerName(mailer);
  for (const method of methodNames(mailer)) {
    const existing: unknown = method in mailer ? (mailer as unknown as Record<string, unknown>)[method] : undefined;
    if (method in mailer && !isBuilder(existing)) {
      throw new ConfigError(`${name}.${method}: a mail method cannot have the name of a static of the mailer (${name}.${method} already exists); rename the method`);
    }
    Object.defineProperty(mailer, method, { value: builder(mailer, method), configurable: true, enumerable: false, writable: false });
  }
  return mailer as MailerFacade<C>;
}

/** Methods of the mailer's prototypes below `Mailer` (the types narrow them to mail methods). */
function methodNames(mailer: Function): Set<string> {
  const names = new Set<string>();
  for (const c of mailerAncestry(mailer)) {
    for (const [key, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(c.prototype))) {
      if (key !== "constructor" && typeof descriptor.value === "function") names.add(key);
    }
  }
  return names;
}

function builder(mailer: AnyMailerClass, method: string): MailBuilder<unknown[]> {
  // `this` is the class the static was called on: a subclass inheriting it delivers as
  // itself; a detached call (`const { welcome } = UserMailer`) falls back to `mailer`.
  const build = function (this: unknown, ...args: unknown[]): MailDelivery {
    const target = isMailerClass(this) ? (this as AnyMailerClass) : mailer;
    return (target.mail as (method: string, ...args: unknown[]) => MailDelivery).call(target, method, ...args);
  };
  Object.defineProperty(build, "name", { value: method });
  return Object.assign(build, { mailMethod: method });
}

function isBuilder(value: unknown): boolean {
  return typeof value === "function" && typeof (value as { mailMethod?: unknown }).mailMethod === "string";
}

function describe(value: unknown): string {
  return typeof value === "function" ? value.name || "an anonymous function" : String(value);
}
