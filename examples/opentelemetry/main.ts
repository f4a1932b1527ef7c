// The runnable example of docs/observability.md and packages/opentelemetry/README.md (kept identical by test/readme.test.ts).
import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { configure, Job } from "@errand/core";
import { waitFor } from "@errand/core/testing";
import { errandInstrumentation } from "@errand/opentelemetry";

// 1. The OpenTelemetry SDK, as your app sets it up (here: spans kept in memory).
const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));

// 2. Errand, with the instrumentation registered.
class ReceiptJob extends Job<[orderId: number], string> {
  perform(orderId: number) {
    trace.getTracer("shop").startSpan("render receipt").end();
    return `receipt for order ${orderId}`;
  }
}
const runtime = configure({ adapter: "async", jobs: [ReceiptJob], instrumentation: [errandInstrumentation()] });

// 3. A request (a server span) enqueues the job; the in-process pool runs it.
const tracer = trace.getTracer("shop");
const { jobId } = await tracer.startActiveSpan("POST /orders", { kind: SpanKind.SERVER }, async (span) => {
  try {
    return await ReceiptJob.performLater(42);
  } finally {
    span.end();
  }
});
await waitFor(async () => (await ReceiptJob.status(jobId))?.state === "succeeded");
await runtime.close();

// One trace: the request, the enqueue (producer), the run (consumer) and what the job did,
// printed as a tree, each span after its parent.
const spans = exporter.getFinishedSpans();
const kinds = ["internal", "server", "client", "producer", "consumer"];
const printChildren = (parentId: string | undefined, parentName: string): void => {
  for (const span of spans.filter((other) => other.parentSpanContext?.spanId === parentId)) {
    console.log(`${span.name} (${kinds[span.kind]}) <- ${parentName}`);
    printChildren(span.spanContext().spanId, span.name);
  }
};
printChildren(undefined, "root");
console.log(`one trace: ${new Set(spans.map((span) => span.spanContext().traceId)).size === 1}`);
