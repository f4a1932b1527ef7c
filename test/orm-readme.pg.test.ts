// packages/orm/README.md must not drift: its example is examples/orm-kysely/main.ts verbatim,
// and that file runs against the real PostgreSQL printing what the README says.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { afterAll, describe, expect, it } from "vitest";

import { dropSchemas, postgresUrl } from "./support/postgres.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, "utf8");

afterAll(() => dropSchemas(postgresUrl(), ["errand_example_orm", "errand_example_orm_app"]));

describe("packages/orm/README.md", () => {
  it("shows examples/orm-kysely/main.ts verbatim", () => {
    const readme = read("packages/orm/README.md");
    const from = readme.indexOf("[`examples/orm-kysely/main.ts`]");
    expect(from).toBeGreaterThanOrEqual(0);
    const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(from))![1]!;
    expect(block).toBe(read("examples/orm-kysely/main.ts").replace(/^\/\/ The runnable example of .*\n/, ""));
  });

  it("the example runs and prints what the README says", () => {
    const output = execFileSync(process.execPath, [`${root}examples/dist/orm-kysely/main.js`], {
      encoding: "utf8",
      timeout: 20_000,
      env: { ...process.env, DATABASE_URL: postgresUrl() },
    });
    expect(output.trim()).toBe("welcomed ada@example.com");
  });
});
