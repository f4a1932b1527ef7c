// docs/transactions-orms.md's MySQL section must not drift: its example is
// examples/orm-mysql/main.ts verbatim, and that file runs against the real MariaDB (data)
// and Redis (jobs), printing what the section says.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { afterAll, describe, expect, it } from "vitest";

import { mysqlQuery, mysqlUrl } from "./support/mysql.js";
import { dropPrefixes, redisUrl } from "./support/redis.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, "utf8");

// The example's own prefix and table (no other file uses them).
afterAll(() => dropPrefixes(redisUrl(), ["errand-example-mysql"]));

describe("docs/transactions-orms.md, MySQL and MariaDB", () => {
  it("shows examples/orm-mysql/main.ts verbatim", () => {
    const doc = read("docs/transactions-orms.md");
    const from = doc.indexOf("[`examples/orm-mysql/main.ts`]");
    expect(from).toBeGreaterThanOrEqual(0);
    const block = /```ts\n([\s\S]*?)```/.exec(doc.slice(from))![1]!;
    expect(block).toBe(read("examples/orm-mysql/main.ts").replace(/^\/\/ The runnable example of .*\n/, ""));
  });

  it("the example runs and prints what the section says", async () => {
    await mysqlQuery("SELECT 1"); // fails saying how to start MariaDB when it is not there
    const output = execFileSync(process.execPath, [`${root}examples/dist/orm-mysql/main.js`], {
      encoding: "utf8",
      timeout: 20_000,
      env: { ...process.env, MYSQL_URL: mysqlUrl(), REDIS_URL: redisUrl() },
    });
    expect(output.trim().split("\n")).toEqual(["true", "rolled back: payment declined", "welcomed user 1", "null"]);
  });
});
