// Core's side of the outbox relay (transactions/relay.ts, cli/commands/relay.ts): the relay's
// send goes through the adapter client in chunks of the adapter's maxBatchSize, in order; a
// config without an outbox is refused; a URL's password never reaches a log line. The
// outbox here is a small in-memory Outbox (the contract's own interface, no client faked);
// PostgresOutbox is tested against PostgreSQL in test/outbox*.test.ts.
import { describe, expect, it } from "vitest";

import type { JobPayload } from "../src/adapter/contract.js";
import { TestAdapter } from "../src/backends/test-adapter.js";
import { redactUrls } from "../src/cli/commands/relay.js";
import { ConfigError } from "../src/errors.js";
import { uuidv7 } from "../src/ids.js";
import { Runtime } from "../src/runtime.js";
import { waitFor } from "../src/testing/wait-for.js";
import type { Outbox, OutboxRelayOptions } from "../src/transactions/outbox.js";
import { runOutboxRelay } from "../src/transactions/relay.js";

function payload(n: number): JobPayload {
  const now = new Date().toISOString();
  return { v: 1, job: "EchoJob", id: uuidv7(), queue: "default", priority: 0, args: { json: [n] }, executions: 0, enqueuedAt: now, runAt: now };
}

/** An outbox holding `payloads` whose relay sends them in one batch, then waits to be stopped. */
function memoryOutbox(payloads: JobPayload[], adapter: string | undefined): Outbox {
  return {
    dialect: "postgres",
    async write() {},
    async relay({ send, signal }: OutboxRelayOptions) {
      await send(adapter, payloads);
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    },
    async close() {},
  };
}

describe("runOutboxRelay", () => {
  it("sends a batch to the named adapter in chunks of its maxBatchSize, one after the other, in order", async () => {
    const adapter = new TestAdapter();
    Object.assign(adapter, { capabilities: { ...adapter.capabilities, maxBatchSize: 7, durable: true } });
    const payloads = Array.from({ length: 30 }, (_, n) => payload(n));
    const runtime = new Runtime({ adapters: { mail: adapter }, outbox: memoryOutbox(payloads, "mail"), worker: { embedded: false } });
    const calls: number[] = [];
    runtime.events.on("adapter:call", ({ operation, count }) => operation === "enqueue" && calls.push(count));
    const controller = new AbortController();
    const relaying = runOutboxRelay(runtime, { signal: controller.signal, onError: (error) => expect.fail(String(error)) });
    await waitFor(() => adapter.enqueued.length === 30, { message: "the 30 jobs enqueued" });
    controller.abort();
    await relaying;
    expect(adapter.enqueued.map((job) => job.payload.id)).toEqual(payloads.map((job) => job.id));
    expect(calls).toEqual([7, 7, 7, 7, 2]);
    await runtime.close();
  });

  it("refuses a config without an outbox, saying how to set one", async () => {
    const runtime = new Runtime({ adapter: new TestAdapter() });
    await expect(runOutboxRelay(runtime, { signal: new AbortController().signal, onError: () => undefined })).rejects.toThrow(ConfigError);
    await expect(runOutboxRelay(runtime, { signal: new AbortController().signal, onError: () => undefined })).rejects.toThrow(/defineConfig\(\{ outbox/);
    await runtime.close();
  });
});

describe("the outbox setting", () => {
  it("is checked: an object without a dialect (what its route compares with a transaction's) is refused", () => {
    const { dialect: _dialect, ...noDialect } = memoryOutbox([], undefined);
    expect(() => new Runtime({ adapter: new TestAdapter(), outbox: noDialect as never })).toThrow(ConfigError);
    expect(() => new Runtime({ adapter: new TestAdapter(), outbox: noDialect as never })).toThrow(/outbox.*an object with a dialect/);
  });
});

describe("relay log lines", () => {
  it("mask a URL's password and leave the rest of the line as it was", () => {
    expect(redactUrls("connect to postgres://app:s3cret@db:5432/prod failed")).toBe("connect to postgres://app:***@db:5432/prod failed");
    expect(redactUrls("redis://:pw@cache:6379 and rediss://u:p%40ss@h/0")).toBe("redis://:***@cache:6379 and rediss://u:***@h/0");
    expect(redactUrls("postgres://app@db/prod, redis://cache:6379")).toBe("postgres://app@db/prod, redis://cache:6379");
  });
});
