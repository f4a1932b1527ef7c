/**
 * @errand/opentelemetry on Redis and PostgreSQL, with the SDK's in-memory exporters and a
 * real worker: an HTTP request, the job it enqueues and that job's run are one trace; a
 * retried run and a dead job show on their spans; the metrics count what happened.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { PostgresAdapter } from "@errand/adapter-postgres";
import { RedisAdapter } from "@errand/adapter-redis";
import { configure, Job, performAllLater, Worker, type Runtime } from "@errand/core";
import type { Adapter } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";
import { errandInstrumentation } from "@errand/opentelemetry";

import { parentOf, setupTelemetry, type TestTelemetry } from "./support/otel.js";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";

const tracer = trace.getTracer("errand-test-app");

class FlakyError extends Error {}

/** Sends a welcome mail: a span of its own inside the job's run. */
class WelcomeJob extends Job<[email: string], string> {
  static override jobName = "WelcomeJob";
  perform(email: string) {
    tracer.startSpan("deliver mail").end();
    return `welcomed ${email}`;
  }
}

/** Fails its first run, succeeds on the second. */
class FlakyJob extends Job<[]> {
  static override jobName = "FlakyJob";
  static override retry = [[FlakyError, { attempts: 3, wait: 10, jitter: 0 }]] as const;
  perform() {
    if (this.executions === 1) throw new FlakyError("first run fails");
    return "ok";
  }
}

/** Always fails: dead after two runs. */
class DoomedJob extends Job<[]> {
  static override jobName = "DoomedJob";
  static override retry = [[Error, { attempts: 2, wait: 10, jitter: 0 }]] as const;
  perform(): never {
    throw new Error("never works");
  }
}

const JOBS = [WelcomeJob, FlakyJob, DoomedJob];
let telemetry: TestTelemetry;
beforeAll(() => {
  telemetry = setupTelemetry();
});
afterAll(() => telemetry.shutdown());

const prefixes: string[] = [];
const schemas: string[] = [];
afterAll(() => Promise.all([dropPrefixes(redisUrl(), prefixes), dropSchemas(postgresUrl(), schemas)]));

const BACKENDS: [string, () => Adapter][] = [
  [
    "redis",
    () => {
      const prefix = redisPrefix("errand-otel");
      prefixes.push(prefix);
      return new RedisAdapter({ url: redisUrl(), prefix, pollMs: 50 });
    },
  ],
  [
    "postgres",
    () => {
      const schema = schemaName("errand_otel");
      schemas.push(schema);
      return new PostgresAdapter({ url: postgresUrl(), schema, poolSize: 4, leaseCheckMs: 50 });
    },
  ],
];

/** A server whose one route enqueues a WelcomeJob inside its request span, as an instrumented HTTP server would. */
async function startApp(): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    void tracer.startActiveSpan("POST /signup", { kind: SpanKind.SERVER }, async (span) => {
      try {
        const { jobId } = await WelcomeJob.performLater("ada@example.com");
        response.end(jobId);
      } catch (error) {
        response.statusCode = 500;
        response.end(String(error));
      } finally {
        span.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/signup` };
}

function byName(spans: ReadableSpan[], name: string, jobId?: string): ReadableSpan[] {
  return spans.filter((span) => span.name === name && (jobId === undefined || span.attributes["messaging.message.id"] === jobId));
}

const eventNames = (span: ReadableSpan) => span.events.map((event) => event.name);

describe.each(BACKENDS)("OpenTelemetry on %s", (adapterName, create) => {
  let runtime: Runtime;
  let worker: Worker;

  async function start(): Promise<void> {
    runtime = configure({
      adapter: create(),
      jobs: JOBS,
      worker: { embedded: false, pollInterval: 50 },
      instrumentation: [errandInstrumentation()],
    });
    worker = new Worker({ runtime, concurrency: 4 });
    await worker.start();
  }

  afterEach(async () => {
    await worker.stop({ graceMs: 1000 });
    await runtime.close();
  });

  it("a request, the job it enqueues and the job's run are one trace", async () => {
    await start();
    const { server, url } = await startApp();
    try {
      const response = await fetch(url, { method: "POST" });
      expect(response.status).toBe(200);
      const jobId = await response.text();
      await waitFor(async () => (await WelcomeJob.status(jobId))?.state === "succeeded", { message: "the job to succeed" });
      const spans = await waitFor(() => byName(telemetry.spans(), "deliver mail").length > 0 && telemetry.spans(), { message: "the job's spans" });
      const request = byName(spans, "POST /signup").at(-1)!;
      const [send] = byName(spans, "send default", jobId);
      const [process] = byName(spans, "process default", jobId);
      expect(send, "a send span for the job").toBeDefined();
      expect(process, "a process span for the job").toBeDefined();
      const traceId = request.spanContext().traceId;
      expect(send!.spanContext().traceId).toBe(traceId);
      expect(process!.spanContext().traceId).toBe(traceId);
      expect(send!.kind).toBe(SpanKind.PRODUCER);
      expect(parentOf(send!)).toBe(request.spanContext().spanId);
      expect(process!.kind).toBe(SpanKind.CONSUMER);
      expect(parentOf(process!)).toBe(send!.spanContext().spanId);
      expect(process!.links.map((link) => link.context.spanId)).toEqual([send!.spanContext().spanId]);
      const mail = byName(spans, "deliver mail").find((span) => span.spanContext().traceId === traceId)!;
      expect(parentOf(mail)).toBe(process!.spanContext().spanId);
      expect(send!.attributes).toMatchObject({
        "messaging.system": "errand",
        "messaging.operation.type": "send",
        "messaging.destination.name": "default",
        "messaging.message.id": jobId,
        "errand.job.class": "WelcomeJob",
        "errand.adapter": adapterName,
        "errand.job.duplicate": false,
      });
      expect(process!.attributes).toMatchObject({
        "messaging.operation.type": "process",
        "messaging.message.id": jobId,
        "errand.job.attempt": 1,
        "errand.job.outcome": "succeeded",
        "errand.adapter": adapterName,
      });
      expect(process!.status.code).toBe(SpanStatusCode.UNSET);
      expect(await telemetry.count("messaging.client.sent.messages", { "errand.adapter": adapterName, "errand.job.class": "WelcomeJob" })).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("a retried run records its error and the retry; the next run is in the same trace", async () => {
    await start();
    const jobId = await tracer.startActiveSpan("enqueue flaky", async (span) => {
      try {
        return (await FlakyJob.performLater()).jobId;
      } finally {
        span.end();
      }
    });
    await waitFor(async () => (await FlakyJob.status(jobId))?.state === "succeeded", { message: "the job to succeed on its second run" });
    const runs = await waitFor(() => {
      const found = byName(telemetry.spans(), "process default", jobId);
      return found.length === 2 && found;
    }, { message: "two process spans" });
    const [send] = byName(telemetry.spans(), "send default", jobId);
    const [failed, succeeded] = [...runs].sort((a, b) => Number(a.attributes["errand.job.attempt"]) - Number(b.attributes["errand.job.attempt"]));
    expect(failed!.attributes).toMatchObject({ "errand.job.attempt": 1, "errand.job.outcome": "retry", "error.type": "FlakyError" });
    expect(failed!.status).toEqual({ code: SpanStatusCode.ERROR, message: "first run fails" });
    expect(eventNames(failed!)).toEqual(["exception", "errand.job.retry"]);
    const retry = failed!.events[1]!;
    expect(retry.attributes?.["errand.job.attempt"]).toBe(2);
    expect(Date.parse(String(retry.attributes?.["errand.job.retry_at"]))).not.toBeNaN();
    expect(failed!.events[0]!.attributes?.["exception.message"]).toBe("first run fails");
    expect(succeeded!.attributes).toMatchObject({ "errand.job.attempt": 2, "errand.job.outcome": "succeeded" });
    for (const run of runs) {
      expect(run.spanContext().traceId).toBe(send!.spanContext().traceId);
      expect(parentOf(run)).toBe(send!.spanContext().spanId);
    }
    const match = { "errand.adapter": adapterName, "errand.job.class": "FlakyJob" };
    expect(await telemetry.count("messaging.client.sent.messages", match)).toBe(1);
    expect(await telemetry.count("messaging.client.consumed.messages", match)).toBe(2);
    expect(await telemetry.count("errand.job.finished", { ...match, "errand.job.outcome": "retry" })).toBe(1);
    expect(await telemetry.count("errand.job.finished", { ...match, "errand.job.outcome": "succeeded" })).toBe(1);
    expect(await telemetry.count("errand.job.failed", { ...match, "error.type": "FlakyError" })).toBe(1);
    expect(await telemetry.recorded("messaging.process.duration", match)).toBe(2);
    expect(await telemetry.recorded("errand.job.queue_latency", match)).toBe(2);
  });

  it("a dead job's last run records its death", async () => {
    await start();
    const { jobId } = await DoomedJob.performLater();
    await waitFor(async () => (await DoomedJob.status(jobId))?.state === "dead", { message: "the job to die" });
    const runs = await waitFor(() => {
      const found = byName(telemetry.spans(), "process default", jobId);
      return found.length === 2 && found;
    }, { message: "two process spans" });
    const last = runs.find((span) => span.attributes["errand.job.attempt"] === 2)!;
    expect(last.attributes).toMatchObject({ "errand.job.outcome": "dead", "error.type": "Error" });
    expect(last.status.code).toBe(SpanStatusCode.ERROR);
    expect(eventNames(last)).toEqual(["exception", "errand.job.dead"]);
    const match = { "errand.adapter": adapterName, "errand.job.class": "DoomedJob" };
    expect(await telemetry.count("errand.job.failed", match)).toBe(2);
    expect(await telemetry.count("errand.job.finished", { ...match, "errand.job.outcome": "dead" })).toBe(1);
  });

  it("performAllLater: a create span per job, one send span linking them, each run parented by its job's create span", async () => {
    await start();
    const enqueued = await performAllLater([new WelcomeJob("a@x.test"), new WelcomeJob("b@x.test"), new WelcomeJob("c@x.test")]);
    for (const { jobId } of enqueued) await waitFor(async () => (await WelcomeJob.status(jobId))?.state === "succeeded", { message: `job ${jobId} to succeed` });
    const spans = await waitFor(() => enqueued.every(({ jobId }) => byName(telemetry.spans(), "process default", jobId).length === 1) && telemetry.spans(), {
      message: "a process span per job",
    });
    const creates = enqueued.map(({ jobId }) => byName(spans, "create default", jobId)[0]!);
    expect(creates.every((span) => span?.kind === SpanKind.PRODUCER)).toBe(true);
    const createIds = creates.map((span) => span.spanContext().spanId);
    const send = spans.find((span) => span.name === "send default" && span.kind === SpanKind.CLIENT && span.links.some((link) => link.context.spanId === createIds[0]))!;
    expect(send.links.map((link) => link.context.spanId)).toEqual(createIds);
    expect(send.attributes["messaging.batch.message_count"]).toBe(3);
    enqueued.forEach(({ jobId }, index) => {
      const [process] = byName(spans, "process default", jobId);
      expect(parentOf(process!)).toBe(createIds[index]);
    });
  });
});
