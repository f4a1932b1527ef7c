/**
 * Trace context through the outbox (issue 16 with @errand/opentelemetry): a job made inside
 * the app's transaction and written to the outbox in a request's span is one trace with that
 * request and with its run, as a direct enqueue is. The PRODUCER span is made where the job
 * is made (the write), its context rides in the stored payload's `headers`, unchanged through
 * the relay (the relay's own send span only links to it), and the CONSUMER span of the run is
 * its child. The relay and the worker run on a runtime of their own, as `errand relay` and
 * `errand work` would in another process.
 */
import { SpanKind, trace } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { PostgresOutbox, transaction } from "@errand/adapter-postgres";
import { RedisAdapter } from "@errand/adapter-redis";
import { configure, Job, performAllLater, Runtime, runOutboxRelay, Worker } from "@errand/core";
import { waitFor } from "@errand/core/testing";
import { errandInstrumentation } from "@errand/opentelemetry";

import { parentOf, setupTelemetry, type TestTelemetry } from "./support/otel.js";
import { outboxFile } from "./support/outbox.js";

const tracer = trace.getTracer("errand-test-app");
const ran = new Map<string, string>();

/** Jobs of ReceiptJob counted as sent; waits until at least `expected` (the relay's enqueue hook ends as its call resolves), then answers the count. */
async function sent(expected: number): Promise<number> {
  const count = () => telemetry.count("messaging.client.sent.messages", { "errand.job.class": "ReceiptJob" });
  await waitFor(async () => (await count()) >= expected, { message: `${expected} jobs counted as sent` });
  return count();
}

class ReceiptJob extends Job<[order: string]> {
  static override jobName = "ReceiptJob";
  perform(order: string) {
    ran.set(this.jobId, order);
  }
}

let telemetry: TestTelemetry;
const file = outboxFile({ poolMax: 2 });
const schema = file.schema();
const prefix = file.prefix();
let relayRuntime: Runtime;
let outbox: PostgresOutbox;
const relayErrors: unknown[] = [];

beforeAll(async () => {
  telemetry = setupTelemetry();
  outbox = new PostgresOutbox({ url: file.url, schema, pollMs: 100 });
  const adapter = () => new RedisAdapter({ url: file.rUrl, prefix, pollMs: 50 });
  // The app: its jobs for Redis go to the outbox inside a transaction.
  const app = configure({ adapter: adapter(), outbox, jobs: [ReceiptJob], worker: { embedded: false }, instrumentation: [errandInstrumentation()] });
  // The relay and the worker, as another process would run them (a runtime of their own).
  relayRuntime = new Runtime({ adapter: adapter(), outbox, jobs: [ReceiptJob], worker: { embedded: false, pollInterval: 50 }, instrumentation: [errandInstrumentation()] });
  const stop = new AbortController();
  const relay = runOutboxRelay(relayRuntime, { signal: stop.signal, onError: (error) => relayErrors.push(error) });
  const worker = new Worker({ runtime: relayRuntime, concurrency: 4 });
  await worker.start();
  file.closeLater(
    () => telemetry.shutdown(),
    () => outbox.close(),
    () => app.close(),
    async () => {
      stop.abort();
      await relay;
      await relayRuntime.close();
    },
  );
});
afterAll(() => expect(relayErrors).toEqual([]));

/** Makes jobs in a transaction inside a request's SERVER span; returns the span and the job ids. */
async function request(name: string, orders: string[]): Promise<{ span: ReadableSpan; jobIds: string[] }> {
  const jobIds = await tracer.startActiveSpan(name, { kind: SpanKind.SERVER }, async (span) => {
    try {
      return await transaction(file.pool, async () => {
        if (orders.length === 1) return [(await ReceiptJob.performLater(orders[0]!)).jobId];
        return (await performAllLater(orders.map((order) => new ReceiptJob(order)))).map((job) => job.jobId);
      });
    } finally {
      span.end();
    }
  });
  const span = telemetry.spans().find((each) => each.name === name)!;
  return { span, jobIds };
}

function spansOf(jobId: string, name: string): ReadableSpan[] {
  return telemetry.spans().filter((span) => span.name === name && span.attributes["messaging.message.id"] === jobId);
}

/** Waits for the run of each job and returns its CONSUMER span. */
async function processSpans(jobIds: string[]): Promise<ReadableSpan[]> {
  return waitFor(() => jobIds.every((id) => spansOf(id, "process default").length === 1) && jobIds.map((id) => spansOf(id, "process default")[0]!), {
    timeoutMs: 15_000,
    message: "the relayed jobs' runs",
  });
}

describe("OpenTelemetry through the outbox (PostgreSQL data, Redis jobs)", () => {
  it("a request, the job it writes to the outbox and the job's run are one trace: PRODUCER at the write, CONSUMER its child", async () => {
    const { span: req, jobIds } = await request("POST /orders", ["order-1"]);
    const [jobId] = jobIds as [string];
    const [consumer] = await processSpans(jobIds);
    expect(ran.get(jobId)).toBe("order-1");
    const producers = spansOf(jobId, "send default").filter((span) => span.kind === SpanKind.PRODUCER);
    expect(producers, "one PRODUCER span, made at the write").toHaveLength(1);
    const producer = producers[0]!;
    const traceId = req.spanContext().traceId;
    expect(producer.spanContext().traceId).toBe(traceId);
    expect(parentOf(producer)).toBe(req.spanContext().spanId);
    expect(producer.attributes).toMatchObject({ "messaging.operation.type": "send", "errand.adapter": "redis", "errand.job.outbox": true });
    expect(consumer!.kind).toBe(SpanKind.CONSUMER);
    expect(consumer!.spanContext().traceId).toBe(traceId);
    expect(parentOf(consumer!)).toBe(producer.spanContext().spanId);
    expect(consumer!.links.map((link) => link.context.spanId)).toEqual([producer.spanContext().spanId]);
    // The relay's send: a CLIENT span linked to the job's creation, which it did not re-create.
    const relayed = telemetry.spans().filter((span) => span.kind === SpanKind.CLIENT && span.links.some((link) => link.context.spanId === producer.spanContext().spanId));
    expect(relayed, "the relay's send span, linked to the PRODUCER").toHaveLength(1);
    expect(telemetry.spans().filter((span) => span.attributes["messaging.message.id"] === jobId && span.kind === SpanKind.PRODUCER)).toHaveLength(1);
    // Counted once, when the relay stored it in Redis (not at the write: a rollback sends nothing).
    expect(await sent(1)).toBe(1);
  });

  it("several jobs of one transaction: a PRODUCER create span each, each run its child, the relay's send linked to all", async () => {
    const before = await sent(0);
    const { span: req, jobIds } = await request("POST /bulk-orders", ["order-2", "order-3", "order-4"]);
    const consumers = await processSpans(jobIds);
    const traceId = req.spanContext().traceId;
    const creates = jobIds.map((id) => spansOf(id, "create default"));
    for (const [index, jobId] of jobIds.entries()) {
      expect(creates[index], `one create span for ${jobId}`).toHaveLength(1);
      const create = creates[index]![0]!;
      expect(create.kind).toBe(SpanKind.PRODUCER);
      expect(parentOf(create)).toBe(req.spanContext().spanId);
      expect(consumers[index]!.spanContext().traceId).toBe(traceId);
      expect(parentOf(consumers[index]!)).toBe(create.spanContext().spanId);
    }
    const createIds = new Set(creates.map((spans) => spans[0]!.spanContext().spanId));
    const relaySends = telemetry.spans().filter((span) => span.kind === SpanKind.CLIENT && span.attributes["errand.job.outbox"] === undefined && span.links.some((link) => createIds.has(link.context.spanId)));
    expect(relaySends.flatMap((span) => span.links.map((link) => link.context.spanId)).filter((id) => createIds.has(id)).sort()).toEqual([...createIds].sort());
    expect(await sent(before + 3)).toBe(before + 3);
  });

  it("a rolled-back transaction's job has its PRODUCER span and nothing after it: no send counted, no run", async () => {
    const before = await sent(0);
    let jobId = "";
    await expect(
      tracer.startActiveSpan("POST /declined", async (span) => {
        try {
          await transaction(file.pool, async () => {
            jobId = (await ReceiptJob.performLater("order-5")).jobId;
            throw new Error("payment declined");
          });
        } finally {
          span.end();
        }
      }),
    ).rejects.toThrow("payment declined");
    expect(spansOf(jobId, "send default")).toHaveLength(1);
    // A later job relayed and run: the relay has passed the point where the declined one would be.
    const { jobIds } = await request("POST /orders", ["order-6"]);
    await processSpans(jobIds);
    expect(spansOf(jobId, "process default")).toHaveLength(0);
    expect(ran.has(jobId)).toBe(false);
    expect(await sent(before + 1)).toBe(before + 1);
  });
});
