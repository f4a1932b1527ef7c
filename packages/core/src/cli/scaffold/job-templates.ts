/**
 * The job and job-test files `errand generate job` and `errand init` write. The test uses
 * the test adapter and `@errand/core/testing`, and passes as generated.
 *
 * @module
 */
import type { ClassName } from "./names.js";
import { testOpening, type Syntax, type TestSyntax } from "./syntax.js";

/** What a job template needs. */
export interface JobTemplateInput {
  name: ClassName;
  /** `--queue`; default queue when absent. */
  queue?: string | undefined;
  /** The richer example `errand init` writes: one argument and a result. */
  example?: boolean;
}

const lines = (...parts: (string | false | undefined)[]): string => `${parts.filter((part): part is string => typeof part === "string").join("\n")}\n`;

/** The job's source. */
export function jobSource({ name, queue, example }: JobTemplateInput, syntax: Syntax): string {
  const { className } = name;
  const ts = syntax.typescript;
  const queueLine = queue === undefined ? undefined : `  static ${ts ? "override " : ""}queue = ${JSON.stringify(queue)};`;
  if (example) {
    return lines(
      syntax.imports(["Job"], "@errand/core"),
      "",
      "/**",
      ` * An example job: \`await ${className}.performLater("Ada")\` returns at once with a job id;`,
      " * a worker (`errand work`, or the async adapter's pool in development) runs `perform`,",
      " * and its result can be read back by id (`" + className + ".status(jobId)`).",
      " */",
      `${syntax.exportKeyword}class ${className} extends Job${ts ? "<[name: string], string>" : ""} {`,
      queueLine,
      queueLine && "",
      `  async perform(name${syntax.type("string")})${syntax.type("Promise<string>")} {`,
      '    this.progress(0.5, "composing the greeting");',
      "    return `Hello, ${name}!`;",
      "  }",
      "}",
      syntax.exportsLine([className]).trimEnd() || undefined,
    );
  }
  return lines(
    syntax.imports(["Job"], "@errand/core"),
    "",
    `/** Enqueue with \`${className}.performLater()\`; a worker runs \`perform\`. */`,
    `${syntax.exportKeyword}class ${className} extends Job${ts ? "<[], void>" : ""} {`,
    queueLine,
    queueLine && "",
    `  async perform()${syntax.type("Promise<void>")} {`,
    "    // Do something later.",
    "  }",
    "}",
    syntax.exportsLine([className]).trimEnd() || undefined,
  );
}

/** The job's test, for the app's test runner. */
export function jobTestSource({ name, queue, example }: JobTemplateInput, syntax: Syntax, test: TestSyntax): string {
  const { className, fileBase } = name;
  const queueText = queue ?? "default";
  const args = example ? '"Ada"' : "";
  const matcher = `{ job: ${className}, queue: ${JSON.stringify(queueText)}${example ? ', args: ["Ada"]' : ""}, count: 1 }`;
  const opening = { className, fileBase, helpers: ["assertEnqueued", "assertPerformed", "performEnqueuedJobs"], config: '{ adapter: "test" }' };
  return lines(
    ...testOpening({ ...opening, comment: "The test adapter records jobs instead of running them; performEnqueuedJobs runs them here." }, syntax, test),
    "",
    `  it("is enqueued on the ${queueText} queue", async () => {`,
    `    await ${className}.performLater(${args});`,
    `    await assertEnqueued(${matcher});`,
    "  });",
    "",
    `  it("performs", async () => {`,
    `    await ${className}.performLater(${args});`,
    `    ${test.equal("await performEnqueuedJobs()", "1")}`,
    `    await assertPerformed({ job: ${className}, count: 1 });`,
    example && `    ${test.equal(`await ${className}.performNow("Ada")`, '"Hello, Ada!"')}`,
    "  });",
    "});",
  );
}
