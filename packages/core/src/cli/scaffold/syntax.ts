/**
 * How generated code is spelt for an app: ES module or CommonJS syntax, TypeScript or not,
 * and the test runner's imports and assertions. Templates write through it, so one template
 * serves every combination `errand init` detects.
 *
 * @module
 */
import type { Project } from "./project.js";

/** Spelling rules for one app. */
export interface Syntax {
  /** `.ts` or `.js`. */
  readonly ext: string;
  readonly typescript: boolean;
  /** `import { a, b } from "m";` or `const { a, b } = require("m");`. */
  imports(names: readonly string[], from: string, options?: { typeOnly?: readonly string[] }): string;
  /** The specifier of a sibling file: `./x.js` for ES modules and JavaScript, `./x` for TypeScript compiled to CommonJS. */
  sibling(fileBase: string): string;
  /** `export ` before a declaration, or nothing (CommonJS lists exports at the end). */
  readonly exportKeyword: string;
  /** The closing `module.exports = { … };` line of a CommonJS file, else nothing. */
  exportsLine(names: readonly string[]): string;
  /** A type annotation when TypeScript: `: Runtime`. */
  type(annotation: string): string;
}

/** The syntax of `project`'s source files. */
export function syntaxOf(project: Pick<Project, "language" | "module">): Syntax {
  const typescript = project.language === "typescript";
  const requireSyntax = !typescript && project.module === "commonjs";
  return {
    ext: typescript ? ".ts" : ".js",
    typescript,
    imports(names, from, options = {}) {
      const typeOnly = typescript ? (options.typeOnly ?? []) : [];
      const all = [...names, ...typeOnly.map((name) => `type ${name}`)];
      if (all.length === 0) return "";
      if (requireSyntax) return `const { ${names.join(", ")} } = require(${JSON.stringify(from)});`;
      return `import { ${all.join(", ")} } from ${JSON.stringify(from)};`;
    },
    sibling: (fileBase) => (typescript && project.module === "commonjs" ? `./${fileBase}` : `./${fileBase}.js`),
    exportKeyword: requireSyntax ? "" : "export ",
    exportsLine: (names) => (requireSyntax ? `\nmodule.exports = { ${names.join(", ")} };\n` : ""),
    type: (annotation) => (typescript ? `: ${annotation}` : ""),
  };
}

/** The test runner's vocabulary, for generated tests. */
export interface TestSyntax {
  /** The import lines a test file starts with (none for jest's globals). */
  header(syntax: Syntax): string[];
  /** An equality assertion. */
  equal(actual: string, expected: string): string;
  /** The command that runs one generated test file, for messages and docs. */
  command(file: string, syntax: Syntax): string;
}

const VITEST: TestSyntax = {
  // vitest reads test files as ES modules whatever the package's type.
  header: () => ['import { afterEach, beforeEach, describe, expect, it } from "vitest";'],
  equal: (actual, expected) => `expect(${actual}).toEqual(${expected});`,
  command: (file) => `npx vitest run ${file}`,
};

/** Jest runs ES modules (Errand's packages, ESM tests) only with Node's VM modules switched on. */
export const JEST_COMMAND = "node --experimental-vm-modules node_modules/jest/bin/jest.js";

const JEST: TestSyntax = {
  // Jest's globals are there in ES-module tests too (`injectGlobals`); `jest` itself is not.
  header: () => [],
  equal: (actual, expected) => `expect(${actual}).toEqual(${expected});`,
  command: (file) => `${JEST_COMMAND} ${file}`,
};

const NODE_TEST: TestSyntax = {
  header: (syntax) => [syntax.imports(["afterEach", "beforeEach", "describe", "it"], "node:test"), syntax.imports(["deepStrictEqual"], "node:assert")],
  equal: (actual, expected) => `deepStrictEqual(${actual}, ${expected});`,
  // Node 20 runs TypeScript through tsx's loader (Node 22.6+ could strip types itself).
  command: (file, syntax) => (syntax.typescript ? `node --import tsx --test ${file}` : `node --test ${file}`),
};

/** What opens a generated test: the imports, and a `describe` whose runtime each test configures afresh. */
export interface TestOpening {
  className: string;
  fileBase: string;
  /** Helpers taken from `@errand/core/testing`. */
  helpers: readonly string[];
  /** A comment line saying what the configuration does. */
  comment: string;
  /** The object literal given to `configure`. */
  config: string;
}

/** The lines of a generated test up to its first case: imports, `describe`, the runtime set up and closed around each case. */
export function testOpening({ className, fileBase, helpers, comment, config }: TestOpening, syntax: Syntax, test: TestSyntax): string[] {
  return [
    ...test.header(syntax),
    syntax.imports(["configure"], "@errand/core", { typeOnly: ["Runtime"] }),
    syntax.imports(helpers, "@errand/core/testing"),
    syntax.imports([className], syntax.sibling(fileBase)),
    "",
    `describe("${className}", () => {`,
    `  let runtime${syntax.type("Runtime")};`,
    `  // ${comment}`,
    `  beforeEach(() => {\n    runtime = configure(${config});\n  });`,
    "  afterEach(() => runtime.close());",
  ];
}

/** The vocabulary of `runner`. */
export function testSyntaxOf(runner: Project["testRunner"]): TestSyntax {
  return runner === "vitest" ? VITEST : runner === "jest" ? JEST : NODE_TEST;
}
