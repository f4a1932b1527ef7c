/**
 * The mailer and mailer-test files `errand generate mailer User welcome goodbye` writes:
 * a `Mailer` subclass wrapped in `defineMailer` (so `UserMailer.welcome(to)` is typed), one
 * method per mail, and a test that enqueues each mail (`assertMailEnqueued`) and builds one
 * through the test delivery.
 *
 * @module
 */
import type { ClassName } from "./names.js";
import { testOpening, type Syntax, type TestSyntax } from "./syntax.js";

/** What a mailer template needs. */
export interface MailerTemplateInput {
  name: ClassName;
  /** Mail method names, checked (`mailMethodsOf`). */
  methods: readonly string[];
}

/** `passwordReset` → `Password reset`: the generated subject line. */
const subjectOf = (method: string): string => {
  const spaced = method.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return spaced[0]!.toUpperCase() + spaced.slice(1);
};

/** The mailer's source. */
export function mailerSource({ name, methods }: MailerTemplateInput, syntax: Syntax): string {
  const { className } = name;
  const ts = syntax.typescript;
  const body = methods.flatMap((method, index) => [
    ...(index > 0 ? [""] : []),
    `    /** Deliver later with \`${className}.${method}(to).deliverLater()\`. */`,
    `    ${method}(to${syntax.type("string")}) {`,
    `      return { to, subject: ${JSON.stringify(subjectOf(method))}, text: ${JSON.stringify(`${subjectOf(method)} from ${className}.`)} };`,
    "    }",
  ]);
  const exportsLine = syntax.exportsLine([className]).trimEnd();
  return [
    syntax.imports(["defineMailer", "Mailer"], "@errand/core", { typeOnly: ["MailerDefaults"] }),
    "",
    `/** ${className}'s mails, built in the worker and sent through the \`mail.transport\` of errand.config. */`,
    `${syntax.exportKeyword}const ${className} = defineMailer(`,
    `  class ${className} extends Mailer {`,
    `    static ${ts ? "override " : ""}defaults${syntax.type("MailerDefaults")} = { from: "from@example.com" };`,
    "",
    ...body,
    "  },",
    ");",
    ...(exportsLine ? [exportsLine] : []),
    "",
  ].join("\n");
}

/** The mailer's test, for the app's test runner. */
export function mailerTestSource({ name, methods }: MailerTemplateInput, syntax: Syntax, test: TestSyntax): string {
  const { className, fileBase } = name;
  const first = methods[0]!;
  const cases = methods.flatMap((method) => [
    "",
    `  it("enqueues the ${method} mail on the mailers queue", async () => {`,
    `    await ${className}.${method}("ada@example.com").deliverLater();`,
    `    await assertMailEnqueued({ mailer: ${className}, method: ${JSON.stringify(method)}, args: ["ada@example.com"], queue: "mailers", count: 1 });`,
    "  });",
  ]);
  const opening = { className, fileBase, helpers: ["assertMailEnqueued", "deliveries"], config: '{ adapter: "test", mail: { transport: "test" } }' };
  return [
    ...testOpening({ ...opening, comment: 'The test adapter records the delivery jobs; the "test" transport keeps sent mails in memory.' }, syntax, test),
    ...cases,
    "",
    `  it("builds the ${first} mail", async () => {`,
    `    await ${className}.${first}("ada@example.com").deliverNow();`,
    `    ${test.equal("deliveries().map(({ mail }) => [mail.from, mail.to, mail.subject])", `[["from@example.com", "ada@example.com", ${JSON.stringify(subjectOf(first))}]]`)}`,
    "  });",
    "});",
    "",
  ].join("\n");
}
