// Docs that must not drift: README examples are the files under examples/ (which
// test/examples.test.ts runs), and the README's adapter table is generated from capabilities.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { afterAll, describe, expect, it } from "vitest";

import { capabilityTable } from "../scripts/capability-table.mjs";
import { dropSchemas, postgresUrl } from "./support/postgres.js";
import { dropPrefixes, redisUrl } from "./support/redis.js";
import { sqsEndpoint } from "./support/sqs.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, "utf8");
const firstTsBlockAfter = (markdown: string, marker: string) => {
  const from = markdown.indexOf(marker);
  expect(from, `marker ${marker}`).toBeGreaterThanOrEqual(0);
  return /```ts\n([\s\S]*?)```/.exec(markdown.slice(from))![1]!;
};
const withoutHeader = (source: string) => source.replace(/^\/\/ The runnable example of .*\n/, "");

// The postgres examples keep their jobs (and the outbox example its outbox) in this schema, the redis examples under this prefix.
afterAll(() => Promise.all([dropSchemas(postgresUrl(), ["errand_example"]), dropPrefixes(redisUrl(), ["errand-example"])]));

/** What examples/opentelemetry prints, as its two docs show it. */
const OTEL_OUTPUT = [
  "POST /orders (server) <- root",
  "send default (producer) <- POST /orders",
  "process default (consumer) <- send default",
  "render receipt (internal) <- process default",
  "one trace: true",
].join("\n");

describe("READMEs", () => {
  it.each(["docs/observability.md", "packages/opentelemetry/README.md"])("%s shows what the OpenTelemetry example prints", (doc) => {
    expect(read(doc)).toContain(`It prints:\n\n\`\`\`\n${OTEL_OUTPUT}\n\`\`\`\n`);
  });

  it("the root README's adapter table is the one generated from capabilities", () => {
    expect(read("README.md")).toContain(capabilityTable());
  });

  it.each([
    ["packages/core/README.md", "[`examples/basics/main.ts`]", "examples/basics/main.ts"],
    ["packages/core/README.md", "[`examples/welcome-mail/main.ts`]", "examples/welcome-mail/main.ts"],
    ["packages/core/README.md", "[`examples/flow-control/main.ts`]", "examples/flow-control/main.ts"],
    ["packages/adapter-async/README.md", "[`examples/async-hello/main.ts`]", "examples/async-hello/main.ts"],
    ["packages/adapter-postgres/README.md", "[`examples/postgres-signup/main.ts`]", "examples/postgres-signup/main.ts"],
    ["packages/adapter-redis/README.md", "[`examples/redis-digest/main.ts`]", "examples/redis-digest/main.ts"],
    ["packages/adapter-sqs/README.md", "[`examples/sqs-import/main.ts`]", "examples/sqs-import/main.ts"],
    ["packages/dashboard/README.md", "[`examples/dashboard/node-http.ts`]", "examples/dashboard/node-http.ts"],
    ["docs/transactions.md", "[`examples/transactions/main.ts`]", "examples/transactions/main.ts"],
    ["docs/transactions-outbox.md", "[`examples/outbox/main.ts`]", "examples/outbox/main.ts"],
    ["packages/nestjs/README.md", "[`examples/nestjs/welcome.job.ts`]", "examples/nestjs/welcome.job.ts"],
    ["docs/dependency-injection.md", "[`examples/dependency-injection/main.ts`]", "examples/dependency-injection/main.ts"],
    ["packages/opentelemetry/README.md", "[`examples/opentelemetry/main.ts`]", "examples/opentelemetry/main.ts"],
    ["docs/observability.md", "[`examples/opentelemetry/main.ts`]", "examples/opentelemetry/main.ts"],
  ])("%s shows %s verbatim", (readme, marker, file) => {
    expect(firstTsBlockAfter(read(readme), marker)).toBe(withoutHeader(read(file)));
  });

  it.each([
    ["examples/dist/basics/main.js", "{ user: 'ada@example.com', rows: 42 }"],
    ["examples/dist/welcome-mail/main.js", "hello@shop.test -> ada@example.com: Welcome"],
    ["examples/dist/flow-control/main.js", "true true\n5 pages synced, at most 1 at once"],
    ["examples/dist/async-hello/main.js", "hello ada"],
    ["examples/dist/postgres-signup/main.js", "welcomed user 1"],
    ["examples/dist/redis-digest/main.js", "digest sent to user 42"],
    ["examples/dist/sqs-import/main.js", "succeeded"],
    ["examples/dist/transactions/main.js", "rolled back: payment declined\nwelcomed ada@example.com\nnull"],
    ["examples/dist/outbox/main.js", "rolled back: payment declined\nreceipt sent for order-1\norders: order-1\nnull"],
    ["examples/dist/dependency-injection/main.js", "acme 350, globex 5"],
    ["examples/dist/opentelemetry/main.js", OTEL_OUTPUT],
  ])("%s runs and prints what its README says", (script, expected) => {
    const env = { ...process.env, DATABASE_URL: postgresUrl(), REDIS_URL: redisUrl(), SQS_ENDPOINT: sqsEndpoint() };
    const output = execFileSync(process.execPath, [`${root}${script}`], { encoding: "utf8", timeout: 20_000, env });
    expect(output.trim()).toBe(expected);
  });
});
