// ActionMailer's form, `UserMailer.welcome(user).deliverLater()`, through `defineMailer`:
// its types (the `@ts-expect-error` lines are checked by `npm run typecheck:tests`), that it
// builds the same mail as `mail("welcome", …)`, inheritance, and refused name collisions.
import { afterEach, describe, expect, it } from "vitest";

import { ConfigError } from "../src/errors.js";
import { defineMailer } from "../src/mailer/facade.js";
import { MailDelivery, Mailer } from "../src/mailer/mailer.js";
import type { BeforeDeliver, MailerDefaults } from "../src/mailer/message.js";
import { UnknownMailerError } from "../src/mailer/registry.js";
import { configure, type Runtime } from "../src/runtime.js";
import { assertMailEnqueued, clearDeliveries, deliveries, enqueuedJobs, performEnqueuedJobs } from "../src/testing/index.js";

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

const order: string[] = [];

const UserMailer = defineMailer(
  class UserMailer extends Mailer {
    static override defaults: MailerDefaults = { from: "users@shop.test", replyTo: "help@shop.test" };
    static override beforeDeliver: BeforeDeliver = (mail, context) => void order.push(`user before ${context.mailer}.${context.method}`);

    welcome(name: string, visits: number) {
      return { to: `${name}@example.com`, subject: `Welcome ${name}`, text: `visit ${visits}` };
    }

    async digest(names: string[]) {
      return { to: names.map((name) => `${name}@example.com`), subject: "Digest" };
    }

    helper() {
      return 42;
    }
  },
);

/** A wrapped subclass: inherits `welcome`, adds `promo`, its own defaults and callback. */
const AdminMailer = defineMailer(
  class AdminMailer extends UserMailer {
    static override defaults: MailerDefaults = { from: "admin@shop.test" };
    static override beforeDeliver: BeforeDeliver = () => void order.push("admin before");

    promo(code: string) {
      return { to: "admins@example.com", subject: `Promo ${code}` };
    }
  },
);

/** A subclass not wrapped: the statics it inherits still deliver as itself. */
class PlainMailer extends UserMailer {}

describe("defineMailer: UserMailer.welcome(user)", () => {
  it("types the method name and its arguments, and returns the class itself", () => {
    runtime = configure({ adapter: "test" });
    expect(UserMailer.welcome("ada", 1)).toBeInstanceOf(MailDelivery);
    expect(UserMailer.digest(["ada"])).toMatchObject({ mailer: UserMailer, method: "digest", args: [["ada"]] });
    // @ts-expect-error: wrong argument types
    UserMailer.welcome(1, "ada");
    // @ts-expect-error: missing argument
    UserMailer.welcome("ada");
    // @ts-expect-error: no such method
    expect(() => UserMailer.nope("ada")).toThrow(TypeError);
    // @ts-expect-error: not a mail method (it returns a number), so not a static in the types
    UserMailer.helper();
    // The string form still works, on the same class, and both forms build the same delivery.
    expect(UserMailer.mail("welcome", "ada", 1)).toEqual(UserMailer.welcome("ada", 1));
    expect(Object.keys(UserMailer)).not.toContain("welcome");
    expect(UserMailer.welcome.mailMethod).toBe("welcome");
  });

  it("deliverLater() and deliverLater({ wait }) enqueue what mail(…).deliverLater() does", async () => {
    runtime = configure({ adapter: "test" });
    await UserMailer.welcome("ada", 3).deliverLater();
    await UserMailer.mail("welcome", "ada", 3).deliverLater();
    const [typed, named] = await enqueuedJobs();
    expect(typed!.args).toEqual(named!.args);
    expect(typed!.args.json).toEqual(["UserMailer", "welcome", ["ada", 3]]);
    await assertMailEnqueued({ mailer: UserMailer, method: "welcome", args: ["ada", 3], queue: "mailers", count: 2 });

    const before = Date.now();
    await UserMailer.welcome("bob", 1).deliverLater({ wait: "1h", queue: "urgent" });
    const after = Date.now();
    const [later] = await assertMailEnqueued({ mailer: UserMailer, method: "welcome", args: ["bob", 1], queue: "urgent", count: 1 });
    expect(Date.parse(later!.runAt)).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(Date.parse(later!.runAt)).toBeLessThanOrEqual(after + 3_600_000);
    expect(deliveries()).toEqual([]);
  });

  it("deliverNow builds and sends the mail here, with defaults and callbacks", async () => {
    runtime = configure({ adapter: "test" });
    clearDeliveries();
    order.length = 0;
    const sent = await UserMailer.welcome("ada", 2).deliverNow();
    expect(sent.mail).toEqual({ from: "users@shop.test", replyTo: "help@shop.test", to: "ada@example.com", subject: "Welcome ada", text: "visit 2" });
    expect(deliveries()).toEqual([sent]);
    expect(order).toEqual(["user before UserMailer.welcome"]);
    expect(await enqueuedJobs()).toEqual([]);
  });

  it("a subclass delivers as itself: its own and inherited statics, defaults nearest first, callbacks ancestors first", async () => {
    runtime = configure({ adapter: "test", mailers: [AdminMailer, PlainMailer] });
    clearDeliveries();
    order.length = 0;
    await AdminMailer.welcome("ada", 1).deliverLater();
    await AdminMailer.promo("SPRING").deliverLater();
    await PlainMailer.welcome("bob", 2).deliverLater();
    expect((await enqueuedJobs()).map((payload) => payload.args.json)).toEqual([
      ["AdminMailer", "welcome", ["ada", 1]],
      ["AdminMailer", "promo", ["SPRING"]],
      ["PlainMailer", "welcome", ["bob", 2]],
    ]);
    expect(await performEnqueuedJobs()).toBe(3);
    expect(deliveries().map((sent) => [sent.mailer, sent.mail.from, sent.mail.replyTo, sent.mail.subject])).toEqual([
      ["AdminMailer", "admin@shop.test", "help@shop.test", "Welcome ada"],
      ["AdminMailer", "admin@shop.test", "help@shop.test", "Promo SPRING"],
      ["PlainMailer", "users@shop.test", "help@shop.test", "Welcome bob"],
    ]);
    expect(order).toEqual(["user before AdminMailer.welcome", "admin before", "user before AdminMailer.promo", "admin before", "user before PlainMailer.welcome"]);
    // @ts-expect-error: promo is AdminMailer's, not UserMailer's
    expect(() => UserMailer.promo("SPRING")).toThrow(TypeError);
    // The parent's statics are untouched by the child's.
    expect(() => UserMailer.mail("promo" as "welcome", "x", 1)).toThrow(UnknownMailerError);
  });

  it("a detached static still builds its mailer's delivery", () => {
    runtime = configure({ adapter: "test" });
    const { welcome } = UserMailer;
    expect(welcome("ada", 1)).toMatchObject({ mailer: UserMailer, method: "welcome" });
  });

  it("a mail method named like a static (mail, defaults, name, call) is refused by type and at run time", () => {
    const collisions = [
      // @ts-expect-error: mail method "mail" has the name of a static of the mailer
      () => defineMailer(class MailMailer extends Mailer { mail() { return { to: "a@example.com", subject: "s" }; } }),
      // @ts-expect-error: mail method "defaults" has the name of a static of the mailer
      () => defineMailer(class DefaultsMailer extends Mailer { defaults() { return { to: "a@example.com", subject: "s" }; } }),
      // @ts-expect-error: mail method "name" has the name of a static of the mailer
      () => defineMailer(class NameMailer extends Mailer { name() { return { to: "a@example.com", subject: "s" }; } }),
      // @ts-expect-error: mail method "call" has the name of a static of the mailer
      () => defineMailer(class CallMailer extends Mailer { call() { return { to: "a@example.com", subject: "s" }; } }),
    ];
    const messages = collisions.map((define) => {
      try {
        define();
        return "no error";
      } catch (error) {
        return error instanceof ConfigError ? error.message : String(error);
      }
    });
    expect(messages).toEqual(
      ["MailMailer.mail", "DefaultsMailer.defaults", "NameMailer.name", "CallMailer.call"].map(
        (what) => `${what}: a mail method cannot have the name of a static of the mailer (${what} already exists); rename the method`,
      ),
    );
  });

  it("refuses what is not a named Mailer subclass", () => {
    // @ts-expect-error: not a Mailer subclass
    expect(() => defineMailer(class NotAMailer {})).toThrow(/defineMailer takes a Mailer subclass, got NotAMailer/);
    expect(() => defineMailer(Mailer as never)).toThrow(/defineMailer takes a Mailer subclass, got Mailer/);
    // A class expression passed as an argument gets no name: jobs could not name its mailer.
    expect(() => defineMailer(class extends Mailer {})).toThrow(/a mailer class has no name; name the class or set static mailerName/);
    const Named = defineMailer(
      class extends Mailer {
        static override mailerName = "NamedMailer";
        hello() {
          return { to: "a@example.com", subject: "hello" };
        }
      },
    );
    expect(Named.hello()).toMatchObject({ method: "hello" });
  });
});
